/* sv-parse — runs rs_parse_main() stand-alone (tests and benchmarks):
 * `sv-parse [parse] FORMAT FILE...` is exactly `stagevisor-agent parse FORMAT FILE...`. */
#include <string.h>

#include "parsecmd.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "parse") == 0)
		return rs_parse_main(argc - 1, argv + 1);
	return rs_parse_main(argc, argv);
}
