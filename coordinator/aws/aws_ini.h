/*
 * aws_ini — the AWS shared config and credentials file format (~/.aws/config,
 * ~/.aws/credentials), parsed from text the caller has read.
 *
 * What it does: sections ("[default]", "[profile ci]", "[services local]"), "key = value"
 * lines (keys compared case-insensitively, as botocore's ConfigParser does), full-line
 * comments starting with '#' or ';', blank lines, surrounding whitespace, and the nested form
 * botocore reads for sub-settings ("ecs =" followed by indented "endpoint_url = ..." lines).
 * Values keep inline '#' (botocore does not strip inline comments either).
 * What it does not do: read files, choose profiles (aws_config does), expand variables.
 *
 * Ownership: the parsed file owns copies of every string; aws_ini_free() frees them.
 * Bounds: AWS_INI_MAX_BYTES of text, AWS_INI_MAX_ENTRIES settings. Errors: aws_ini_parse()
 * returns NULL and writes "line N: reason" into err.
 */
#ifndef SV_AWS_INI_H
#define SV_AWS_INI_H

#include <stddef.h>

#define AWS_INI_MAX_BYTES (1u << 20)
#define AWS_INI_MAX_ENTRIES 4096

struct aws_ini;

struct aws_ini *aws_ini_parse(const char *text, size_t len, char *err, size_t errlen);
void aws_ini_free(struct aws_ini *ini);

/* 1 when a section with this exact name (after trimming, inner runs of spaces collapsed to
 * one: "profile   ci" is "profile ci") exists, else 0. */
int aws_ini_has_section(const struct aws_ini *ini, const char *section);
/* A value (borrowed) or NULL. subkey NULL: a top-level "key = value"; else the nested
 * "key =\n  subkey = value" form. */
const char *aws_ini_get(const struct aws_ini *ini, const char *section, const char *key,
                        const char *subkey);

#endif
