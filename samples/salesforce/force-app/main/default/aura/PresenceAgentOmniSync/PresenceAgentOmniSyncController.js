({
    onInit: function (component, event, helper) {
        helper.start(component);
    },

    onDestroy: function (component, event, helper) {
        helper.stop(component);
    }
});
