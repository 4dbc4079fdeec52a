#include "cli/app.h"

int main(int argc, char** argv) { return schemagate::cli::Main(argc, argv); }
