// callrec-callgen (SIPREC recording-client simulator): wiring only.
#include <iostream>

#include "callgen/Callgen.hpp"

int main(int argc, char** argv) {
  return callrec::callgen::RunCallgen(argc, argv, std::cout, std::cerr);
}
