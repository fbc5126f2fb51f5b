/*
 * pipeline — the pipeline config: one JSON document that tells the coordinator where the
 * stages of a pipeline run on AWS (cluster, network, roles, logs, images), where agents find
 * the coordinator, where Slack is, how playgrounds live, and each stage's image and spec.
 *
 * pipeline_parse() reads and validates the whole document before any AWS call: every error
 * names the offending field by its JSON path ("aws.subnets[1]: must start with \"subnet-\"";
 * "stages.tests.memory: 3000 MiB is not a Fargate size for cpu 1024 (2048 to 8192 in steps of
 * 1024)"). Field names are a contract (coordinator/README.md, "Pipeline config"): configs are
 * written by people and tools outside the project, so unknown fields are errors, not ignored.
 * It does not contact AWS, resolve names or check that the cluster, roles or images exist.
 *
 * A stage's `spec` is a path (relative to the config file's folder) or an inline object;
 * pipeline_load() reads such files and keeps each spec as compact JSON text. The spec itself
 * is validated by the agent (`stagevisor-agent --check`), not here.
 *
 * Ownership: pipeline_parse()/pipeline_load() return a new struct pipeline that the caller
 * frees with pipeline_free(); every string and array inside belongs to it.
 */
#ifndef SV_COORD_PIPELINE_H
#define SV_COORD_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#define PIPELINE_VERSION 1
#define PIPELINE_DOC_MAX (1024u * 1024u)      /* bytes of the config */
#define PIPELINE_STAGES_MAX 64u
#define PIPELINE_NETS_MAX 16u                 /* subnets, security groups: RunTask's limits */
#define PIPELINE_STOP_TIMEOUT_MAX 120u        /* Fargate's stopTimeout cap, seconds */
#define PIPELINE_STOP_TIMEOUT_DEFAULT 30u

struct pipeline_stage {
	char *name;          /* the key in "stages": [a-z0-9_-]{1,32} */
	char *image;         /* repository[:tag|@digest] */
	unsigned cpu;        /* Fargate CPU units: 256 … 16384 */
	unsigned memory;     /* MiB, a size Fargate allows for that cpu */
	unsigned stop_timeout; /* seconds, 2 … 120 */
	char *spec_text;     /* the stage spec, compact JSON */
	char *spec_path;     /* the file it came from (resolved), NULL when inline */
};

struct pipeline_route53 {
	char *zone_id; /* "Z…" (a "/hostedzone/" prefix is removed) */
	char *domain;  /* lowercase, no trailing dot */
};

struct pipeline_aws {
	char *region;
	char *cluster;
	char **subnets;          /* 1 … 16 */
	size_t nsubnets;
	char **security_groups;  /* 1 … 5 */
	size_t nsecurity_groups;
	bool assign_public_ip;   /* default false */
	char *execution_role_arn;
	char *task_role_arn;     /* NULL when absent */
	char *log_group;
	char *ecr_repository;
	struct pipeline_route53 *route53; /* NULL when absent */
};

struct pipeline_coordinator {
	char *advertise;     /* https://host[:port][/]: what agents dial (port taken from the run) */
	char *listen;        /* address to bind, default "0.0.0.0" */
	unsigned port_first; /* the range the tasks' security group opens, inclusive */
	unsigned port_last;
};

struct pipeline_playgrounds {
	unsigned close_of_business_min; /* minutes after local midnight, default 19:00 */
	char *timezone;                 /* an IANA name, default "UTC" */
	unsigned max;                   /* default 10 */
};

struct pipeline {
	struct pipeline_aws aws;
	struct pipeline_coordinator coordinator;
	char *slack_webhook_url;        /* NULL when absent; a secret: never printed */
	struct pipeline_playgrounds playgrounds;
	struct pipeline_stage *stages;
	size_t nstages;
	char *dir;                      /* folder of the config file, for relative paths */
};

struct pipeline_error {
	char path[256];  /* JSON path of the offending field, "" for the document */
	char text[512];
	int line, column; /* of a JSON syntax error, else 0 */
};

/* Parse and validate a config. base_dir resolves relative `spec` paths (NULL: the current
 * folder); read_specs false keeps spec paths unread (spec_text NULL), for unit tests. */
struct pipeline *pipeline_parse(const char *text, size_t len, const char *base_dir,
				bool read_specs, struct pipeline_error *err);
struct pipeline *pipeline_load(const char *path, struct pipeline_error *err);
void pipeline_free(struct pipeline *p);

const struct pipeline_stage *pipeline_find_stage(const struct pipeline *p, const char *name);

/* "PATH: TEXT" (or "line L, column C: TEXT"), for one-line error messages. */
void pipeline_error_format(const struct pipeline_error *err, char *buf, size_t len);

/* Pure checks, exported for tests and for the Fargate backend. */
bool pipeline_fargate_size_ok(unsigned cpu, unsigned memory, char *why, size_t whylen);
int pipeline_parse_hhmm(const char *s, unsigned *minutes);

#endif
