#include "agent/cli/cli.h"

int main(int argc, char** argv) { return presence::agent::RunCli(argc, argv); }
