/*
 * parsecmd — `stagevisor-agent parse [--root DIR] [--tool NAME] FORMAT FILE...`
 *
 * Prints the events of each report as JSON lines on stdout (one compact object per
 * line, in file order). FILE "-" is standard input. --root: base directory for finding
 * fingerprints (default: the current directory); --tool overrides findings' tool.
 * Exit codes: 0 all files parsed; 1 a file was malformed or unreadable (stderr names
 * file:line:column and what is wrong; the other files are still parsed, and the events
 * before the error are printed); 125 usage error (as every agent usage error).
 *
 * The agent's main() dispatches argv[1] == "parse" here with argc-1/argv+1, so argv[0]
 * is "parse".
 */
#ifndef SV_RESULTS_PARSECMD_H
#define SV_RESULTS_PARSECMD_H

#define RS_PARSE_EXIT_MALFORMED 1
#define RS_PARSE_EXIT_USAGE 125

int rs_parse_main(int argc, char **argv);

#endif
