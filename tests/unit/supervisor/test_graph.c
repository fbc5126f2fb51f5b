/* Tests of supervisor/graph.c: each condition against each kind of dependency, whole-node
 * decisions, and reverse-order stopping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "graph.h"

/* Dependency snapshots: not started yet, running, ready, ended ok, ended failing, never ran. */
static const struct graph_node waiting = { 0 };
static const struct graph_node running = { .started = true, .alive = true };
static const struct graph_node ready = { .started = true, .was_ready = true, .alive = true };
static const struct graph_node ok = { .started = true, .was_ready = true, .terminal = true, .succeeded = true };
static const struct graph_node bad = { .started = true, .was_ready = true, .terminal = true };
static const struct graph_node never = { .terminal = true };
static const struct graph_node unready_dead = { .started = true, .terminal = true };

static void each_condition(void **state)
{
	(void)state;
	/* started */
	assert_int_equal(graph_condition(GRAPH_STARTED, &waiting), GRAPH_WAIT);
	assert_int_equal(graph_condition(GRAPH_STARTED, &running), GRAPH_MET);
	assert_int_equal(graph_condition(GRAPH_STARTED, &bad), GRAPH_MET);
	assert_int_equal(graph_condition(GRAPH_STARTED, &never), GRAPH_NEVER);
	/* ready */
	assert_int_equal(graph_condition(GRAPH_READY, &running), GRAPH_WAIT);
	assert_int_equal(graph_condition(GRAPH_READY, &ready), GRAPH_MET);
	assert_int_equal(graph_condition(GRAPH_READY, &unready_dead), GRAPH_NEVER);
	assert_int_equal(graph_condition(GRAPH_READY, &never), GRAPH_NEVER);
	/* completed */
	assert_int_equal(graph_condition(GRAPH_COMPLETED, &ready), GRAPH_WAIT);
	assert_int_equal(graph_condition(GRAPH_COMPLETED, &ok), GRAPH_MET);
	assert_int_equal(graph_condition(GRAPH_COMPLETED, &bad), GRAPH_MET);
	assert_int_equal(graph_condition(GRAPH_COMPLETED, &never), GRAPH_NEVER);
	/* succeeded */
	assert_int_equal(graph_condition(GRAPH_SUCCEEDED, &running), GRAPH_WAIT);
	assert_int_equal(graph_condition(GRAPH_SUCCEEDED, &ok), GRAPH_MET);
	assert_int_equal(graph_condition(GRAPH_SUCCEEDED, &bad), GRAPH_NEVER);
	assert_int_equal(graph_condition(GRAPH_SUCCEEDED, &never), GRAPH_NEVER);
	assert_string_equal(graph_cond_name(GRAPH_SUCCEEDED), "succeeded");
}

static void all_conditions_of_a_node(void **state)
{
	struct graph_dep deps[] = { { 0, GRAPH_READY }, { 1, GRAPH_SUCCEEDED } };
	struct graph_node n[3] = { ready, running, { .deps = deps, .ndeps = 2 } };
	size_t blocking = 99;
	(void)state;

	assert_int_equal(graph_may_start(n, 3, 2, &blocking), GRAPH_WAIT);
	n[1] = ok;
	assert_int_equal(graph_may_start(n, 3, 2, &blocking), GRAPH_MET);
	n[1] = bad;
	assert_int_equal(graph_may_start(n, 3, 2, &blocking), GRAPH_NEVER);
	assert_int_equal(blocking, 1);
	/* NEVER wins over WAIT, whichever comes first */
	n[0] = unready_dead;
	n[1] = running;
	assert_int_equal(graph_may_start(n, 3, 2, &blocking), GRAPH_NEVER);
	assert_int_equal(blocking, 0);
	/* no dependencies: may start at once */
	assert_int_equal(graph_may_start(n, 3, 0, NULL), GRAPH_MET);
}

static void out_of_range_dependency_never(void **state)
{
	struct graph_dep deps[] = { { 7, GRAPH_STARTED } };
	struct graph_node n[1] = { { .deps = deps, .ndeps = 1 } };
	(void)state;
	assert_int_equal(graph_may_start(n, 1, 0, NULL), GRAPH_NEVER);
}

static void stop_in_reverse_dependency_order(void **state)
{
	/* db <- web <- runner: runner first, then web, then db. */
	struct graph_dep web_deps[] = { { 0, GRAPH_READY } };
	struct graph_dep runner_deps[] = { { 1, GRAPH_READY }, { 0, GRAPH_STARTED } };
	struct graph_node n[3] = { ready, ready, ready };
	(void)state;

	n[1].deps = web_deps;
	n[1].ndeps = 1;
	n[2].deps = runner_deps;
	n[2].ndeps = 2;
	assert_false(graph_may_stop(n, 3, 0));
	assert_false(graph_may_stop(n, 3, 1));
	assert_true(graph_may_stop(n, 3, 2));
	n[2].alive = false;
	assert_false(graph_may_stop(n, 3, 0));
	assert_true(graph_may_stop(n, 3, 1));
	n[1].alive = false;
	assert_true(graph_may_stop(n, 3, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_condition),
		cmocka_unit_test(all_conditions_of_a_node),
		cmocka_unit_test(out_of_range_dependency_never),
		cmocka_unit_test(stop_in_reverse_dependency_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
