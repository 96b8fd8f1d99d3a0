// callrec (CLI): wiring only.
#include <iostream>

#include "cli/CliCommands.hpp"

int main(int argc, char** argv) {
  return callrec::cli::RunCli(argc, argv, std::cout, std::cerr);
}
