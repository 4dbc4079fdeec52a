#include "cli/app.h"
#include "cli/heap.h"

int main(int argc, char** argv) {
  schemagate::cli::PrepareHeapForShortRun();
  return schemagate::cli::Main(argc, argv);
}
