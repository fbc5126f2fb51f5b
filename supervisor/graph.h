/*
 * graph — what the dependency graph allows: may a process start, can it never start,
 * may it be stopped yet.
 *
 * Pure: it reads a snapshot of every process (struct graph_node) and the edges
 * (struct graph_dep); it never changes them. Cycles are rejected by the spec before this
 * runs; the functions here terminate on any input anyway (they look one edge deep).
 */
#ifndef SV_GRAPH_H
#define SV_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

enum graph_cond { GRAPH_STARTED, GRAPH_READY, GRAPH_COMPLETED, GRAPH_SUCCEEDED };
enum graph_verdict { GRAPH_WAIT, GRAPH_MET, GRAPH_NEVER };

struct graph_dep {
	size_t index; /* the process depended on */
	enum graph_cond cond;
};

/* What the graph needs to know of one process. */
struct graph_node {
	const struct graph_dep *deps;
	size_t ndeps;
	bool started;    /* exec succeeded at least once */
	bool was_ready;  /* was ready at least once */
	bool alive;      /* has a live pid of ours */
	bool terminal;   /* ended for good (EXITED or FAILED) */
	bool succeeded;  /* terminal with a success code */
};

/* One condition on one dependency. */
enum graph_verdict graph_condition(enum graph_cond cond, const struct graph_node *dep);

/* All of node i's conditions: MET when every one is met, NEVER as soon as one can never be
 * (*blocking is then that dependency's position in deps), else WAIT. */
enum graph_verdict graph_may_start(const struct graph_node *nodes, size_t n, size_t i, size_t *blocking);

/* Reverse dependency order: i may be stopped once no live process depends on it. */
bool graph_may_stop(const struct graph_node *nodes, size_t n, size_t i);

const char *graph_cond_name(enum graph_cond cond);

#endif
