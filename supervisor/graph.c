/* graph — see graph.h. */
#include "graph.h"

enum graph_verdict graph_condition(enum graph_cond cond, const struct graph_node *dep)
{
	switch (cond) {
	case GRAPH_STARTED:
		if (dep->started)
			return GRAPH_MET;
		return dep->terminal ? GRAPH_NEVER : GRAPH_WAIT;
	case GRAPH_READY:
		if (dep->was_ready)
			return GRAPH_MET;
		return dep->terminal ? GRAPH_NEVER : GRAPH_WAIT;
	case GRAPH_COMPLETED:
		if (!dep->terminal)
			return GRAPH_WAIT;
		return dep->started ? GRAPH_MET : GRAPH_NEVER;
	case GRAPH_SUCCEEDED:
		if (!dep->terminal)
			return GRAPH_WAIT;
		return dep->succeeded ? GRAPH_MET : GRAPH_NEVER;
	}
	return GRAPH_NEVER;
}

enum graph_verdict graph_may_start(const struct graph_node *nodes, size_t n, size_t i, size_t *blocking)
{
	enum graph_verdict all = GRAPH_MET;

	for (size_t d = 0; d < nodes[i].ndeps; d++) {
		const struct graph_dep *dep = &nodes[i].deps[d];
		enum graph_verdict v = dep->index < n ? graph_condition(dep->cond, &nodes[dep->index]) : GRAPH_NEVER;

		if (v == GRAPH_NEVER) {
			if (blocking)
				*blocking = d;
			return GRAPH_NEVER;
		}
		if (v == GRAPH_WAIT)
			all = GRAPH_WAIT;
	}
	return all;
}

bool graph_may_stop(const struct graph_node *nodes, size_t n, size_t i)
{
	for (size_t j = 0; j < n; j++) {
		if (j == i || !nodes[j].alive)
			continue;
		for (size_t d = 0; d < nodes[j].ndeps; d++)
			if (nodes[j].deps[d].index == i)
				return false;
	}
	return true;
}

const char *graph_cond_name(enum graph_cond cond)
{
	switch (cond) {
	case GRAPH_STARTED: return "started";
	case GRAPH_READY: return "ready";
	case GRAPH_COMPLETED: return "completed";
	case GRAPH_SUCCEEDED: return "succeeded";
	}
	return "?";
}
