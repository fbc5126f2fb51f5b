/*
 * specfile — the little the coordinator needs to know about a stage spec before the agent
 * reads it: the text (passed inline in STAGEVISOR_SPEC), the stage name, the mode, the stop
 * budget, and which processes must report ready for a service-mode stage to be up.
 *
 * It does not validate the spec beyond that (the agent does, and reports the offending field
 * with its own exit code 125); the coordinator never links the agent's spec parser.
 */
#ifndef SV_COORD_SPECFILE_H
#define SV_COORD_SPECFILE_H

#include <stdbool.h>
#include <stddef.h>

#define SPECFILE_MAX_BYTES (1u << 20)

struct specfile {
	char *text;              /* the whole document, compact JSON */
	char *stage;             /* "stage", default "stage" */
	bool service;            /* mode == "service" */
	unsigned stop_timeout_s; /* default 30 */
	char **ready_procs;      /* processes with role "service": must be ready for `up` */
	size_t nready;
};

struct specfile *specfile_load(const char *path, char *err, size_t errlen);
void specfile_free(struct specfile *sf);

#endif
