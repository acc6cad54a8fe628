({
    start: function (component) {
        var helper = this;
        component.set("v.userId", $A.get("$SObjectType.CurrentUser.Id"));
        // Streaming errors (session timeout, network loss, a refused handshake) end the
        // subscription: subscribe again after a pause.
        component.find("empApi").onError($A.getCallback(function (error) {
            if (!component.isValid()) {
                return;
            }
            console.error("PresenceAgentOmniSync: streaming error", JSON.stringify(error));
            component.set("v.connection", "Connection lost, reconnecting");
            helper.resubscribeLater(component);
        }));
        helper.subscribe(component);
    },

    stop: function (component) {
        var subscription = component.get("v.subscription");
        component.set("v.subscription", null);
        if (subscription) {
            component.find("empApi").unsubscribe(subscription, function () {});
        }
    },

    subscribe: function (component) {
        var helper = this;
        component.set("v.connection", "Connecting");
        // Replay -1: only events published from now on. Replaying older ones (-2) would apply
        // stale presence changes.
        component.find("empApi").subscribe(component.get("v.channel"), -1,
            $A.getCallback(function (message) {
                if (component.isValid()) {
                    helper.handleMessage(component, message);
                }
            })
        ).then($A.getCallback(function (subscription) {
            if (!component.isValid()) {
                return;
            }
            component.set("v.subscription", subscription);
            component.set("v.retryDelayMs", 0);
            component.set("v.connection", "Subscribed");
        })).catch($A.getCallback(function (error) {
            if (!component.isValid()) {
                return;
            }
            console.error("PresenceAgentOmniSync: subscribe failed", JSON.stringify(error));
            component.set("v.connection", "Subscribe failed, retrying");
            helper.resubscribeLater(component);
        }));
    },

    resubscribeLater: function (component) {
        if (component.get("v.retryPending")) {
            return; // onError and a failed subscribe can both report one failure
        }
        var helper = this;
        // Pause before subscribing again: 2 s, doubling, at most 60 s.
        var delay = Math.min(Math.max(component.get("v.retryDelayMs") * 2, 2000), 60000);
        component.set("v.retryDelayMs", delay);
        component.set("v.retryPending", true);
        window.setTimeout($A.getCallback(function () {
            if (!component.isValid()) {
                return;
            }
            component.set("v.retryPending", false);
            helper.resubscribe(component);
        }), delay);
    },

    // Drops the old subscription (it may already be gone) and subscribes afresh, so events are
    // not received twice.
    resubscribe: function (component) {
        var helper = this;
        var old = component.get("v.subscription");
        component.set("v.subscription", null);
        if (!old) {
            helper.subscribe(component);
            return;
        }
        var done = false;
        var next = $A.getCallback(function () {
            if (done || !component.isValid()) {
                return;
            }
            done = true;
            helper.subscribe(component);
        });
        component.find("empApi").unsubscribe(old, next);
        window.setTimeout(next, 5000); // if the unsubscribe answer never comes
    },

    handleMessage: function (component, message) {
        var event = message && message.data && message.data.payload;
        if (!event || !this.sameUser(event.User_Id__c, component.get("v.userId"))) {
            return; // every console receives every agent's events; keep only ours
        }
        // A user's changes are published in order, but a reconnect can repeat or reorder
        // events: an older change must never undo a newer one.
        var changedAt = Date.parse(event.Changed_At__c || "");
        var last = Date.parse(component.get("v.lastChangedAt") || "");
        if (!isNaN(changedAt) && !isNaN(last) && changedAt < last) {
            component.set("v.lastResult", "Ignored an older event (" + event.Label__c + ")");
            return;
        }
        if (!isNaN(changedAt)) {
            component.set("v.lastChangedAt", event.Changed_At__c);
        }
        if (event.Logout__c === true) {
            this.apply(component, event, component.find("omniToolkit").logout());
        } else if (event.Status_Id__c) {
            this.apply(component, event, component.find("omniToolkit").setServicePresenceStatus({
                statusId: event.Status_Id__c.substring(0, 15)
            }));
        }
    },

    apply: function (component, event, promise) {
        var what = event.Logout__c === true ? "Logout" : (event.Label__c || event.Status_Id__c);
        promise.then($A.getCallback(function () {
            if (component.isValid()) {
                component.set("v.lastResult", "Applied: " + what);
            }
        })).catch($A.getCallback(function (error) {
            console.error("PresenceAgentOmniSync: could not apply " + what, JSON.stringify(error));
            if (component.isValid()) {
                component.set("v.lastResult", "Failed: " + what + " (see the browser console)");
            }
        }));
    },

    // Record ids come as 15 characters (case-sensitive) or 18 (the same 15 plus a case
    // checksum), so two ids name the same record when their first 15 characters are equal,
    // compared exactly (005...Ab and 005...aB are different users).
    sameUser: function (a, b) {
        if (typeof a !== "string" || typeof b !== "string" || a.length < 15 || b.length < 15) {
            return false;
        }
        return a.substring(0, 15) === b.substring(0, 15);
    }
});
