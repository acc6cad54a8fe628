#pragma once

// The manual page presence-agent(1), written in roff (man(7)) from a description of the
// command line. cli.cc fills the description from its CLI11 tree (`presence-agent man`, hidden),
// and the build runs that into build/presence-agent.1, so the page lists exactly the options
// the binary takes. Pure text; no CLI11 here.

#include <string>
#include <vector>

namespace presence::agent {

struct ManOption {
  std::string names;        // "-c, --config", or a positional's name ("events")
  std::string value;        // "TEXT", "INT"...; empty for a flag
  std::string description;  // one line
  bool required = false;
  bool positional = false;
};

struct ManCommand {
  std::string name;  // "serve"
  std::string description;
  std::vector<ManOption> options;  // positionals first, then options, in declaration order
};

struct ManPage {
  std::string program;               // "presence-agent"
  std::string version;               // "0.1.0"
  std::string summary;               // the application's description
  std::vector<ManOption> options;    // of the program itself (--help, --version)
  std::vector<ManCommand> commands;  // the visible subcommands
};

// The whole page: NAME, SYNOPSIS, DESCRIPTION, OPTIONS, COMMANDS, then the fixed sections (EXIT
// STATUS, SIGNALS, ENVIRONMENT, FILES, SEE ALSO). No date, so a rebuild gives the same bytes.
std::string RenderManPage(const ManPage& page);

// `text` as roff body text: backslashes written \e, hyphens \-, and a line that would start
// with '.' or '\'' (a request) protected with \&.
std::string RoffText(const std::string& text);

}  // namespace presence::agent
