/*
 * awscmd — `stagevisor aws SERVICE OPERATION [JSON] [options]`: one signed AWS call, for
 * checking credentials and endpoints on a Jenkins host, like `aws --endpoint-url`.
 *
 * It parses the command line, builds an aws_client (coordinator/aws/), makes one call and
 * prints the answer as JSON (REST-XML and query answers are converted), or AWS's error line on
 * stderr. Exit codes: 0 success, 1 AWS answered with an error, 2 usage or configuration error
 * (options, JSON input, config files, region, credentials), 3 no usable answer (connection,
 * timeout, reset, malformed answer).
 */
#ifndef SV_COORD_AWSCMD_H
#define SV_COORD_AWSCMD_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define AWSCMD_OK 0
#define AWSCMD_AWS_ERROR 1
#define AWSCMD_USAGE 2
#define AWSCMD_TRANSPORT 3

int awscmd_command(int argc, char **argv);
void awscmd_usage(void);

/* "list-clusters" -> "ListClusters"; an API name is copied as is. -1 when not a name. */
int awscmd_operation_name(const char *in, char *out, size_t cap);

/* Prints v as `aws` prints JSON (Python's json.dumps, indent 4, non-ASCII as is, floats as
 * Python's repr), then a newline. 0, or -1 on a write error. */
int awscmd_print_json(FILE *f, json_t *v);

#endif
