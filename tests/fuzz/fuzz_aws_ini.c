/*
 * fuzz_aws_ini — the shared config/credentials file parser, then profile, region, endpoint
 * and credential resolution over what it parsed (the input serves as both files).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws_config.h"
#include "aws_creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[400], url[512], region[64];
	struct aws_ini *ini = aws_ini_parse((const char *)data, size, err, sizeof err);
	struct aws_config_input in;
	struct aws_config cfg;
	struct aws_creds c;
	static const char *const svcs[] = {"ecs", "ecr", "logs", "route53", "s3"};

	if (!ini) {
		if (!err[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	memset(&in, 0, sizeof in);
	in.config = ini;
	in.credentials = ini;
	for (int explicit_profile = 0; explicit_profile < 2; explicit_profile++) {
		in.cli_profile = explicit_profile ? "ci" : NULL;
		if (aws_config_resolve(&in, &cfg, err, sizeof err) < 0)
			continue;
		for (size_t i = 0; i < sizeof svcs / sizeof svcs[0]; i++)
			if (aws_config_endpoint(&cfg, aws_service_find(svcs[i]), url, sizeof url, region, sizeof region, err,
			                        sizeof err) == 0 && strncasecmp(url, "http", 4) != 0)
				abort();
		(void)aws_creds_from_ini(ini, cfg.profile, "creds", &c, err, sizeof err);
		(void)aws_creds_from_ini(ini, cfg.config_section, "config", &c, err, sizeof err);
	}
	aws_ini_free(ini);
	return 0;
}
