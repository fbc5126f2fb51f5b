/* specfile — see specfile.h. */
#include "specfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct specfile *specfile_load(const char *path, char *err, size_t errlen)
{
	struct specfile *sf = calloc(1, sizeof *sf);
	json_error_t jerr;
	json_t *doc = NULL, *procs, *p;
	FILE *f;
	const char *mode;
	size_t i;

	if (!sf)
		return NULL;
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	doc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!doc) {
		snprintf(err, errlen, "%s: line %d, column %d: %s", path, jerr.line, jerr.column, jerr.text);
		goto fail;
	}
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "%s: a stage spec is a JSON object", path);
		goto fail;
	}
	sf->text = json_dumps(doc, JSON_COMPACT);
	if (!sf->text || strlen(sf->text) > SPECFILE_MAX_BYTES) {
		snprintf(err, errlen, "%s: too large for the environment (%u bytes at most)", path, SPECFILE_MAX_BYTES);
		goto fail;
	}
	sf->stage = strdup(json_is_string(json_object_get(doc, "stage")) ?
	                   json_string_value(json_object_get(doc, "stage")) : "stage");
	mode = json_string_value(json_object_get(doc, "mode"));
	sf->service = mode && strcmp(mode, "service") == 0;
	sf->stop_timeout_s = 30;
	if (json_is_number(json_object_get(doc, "stop_timeout"))) {
		double t = json_number_value(json_object_get(doc, "stop_timeout"));
		sf->stop_timeout_s = t > 0 && t <= 120 ? (unsigned)(t + 0.999) : 30;
	}
	procs = json_object_get(doc, "processes");
	if (!json_is_array(procs)) {
		snprintf(err, errlen, "%s: processes: must be an array", path);
		goto fail;
	}
	sf->ready_procs = calloc(json_array_size(procs) + 1, sizeof *sf->ready_procs);
	if (!sf->stage || !sf->ready_procs)
		goto fail;
	json_array_foreach(procs, i, p) {
		const char *role = json_string_value(json_object_get(p, "role"));
		const char *name = json_string_value(json_object_get(p, "name"));
		if (name && role && strcmp(role, "service") == 0)
			sf->ready_procs[sf->nready++] = strdup(name);
	}
	json_decref(doc);
	return sf;
fail:
	json_decref(doc);
	specfile_free(sf);
	return NULL;
}

void specfile_free(struct specfile *sf)
{
	if (!sf)
		return;
	for (size_t i = 0; i < sf->nready; i++)
		free(sf->ready_procs[i]);
	free(sf->ready_procs);
	free(sf->text);
	free(sf->stage);
	free(sf);
}
