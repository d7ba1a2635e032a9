// SPDX-License-Identifier: GPL-2.0
/*
 * A demo's signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT end a demo between
 * two of its actions; SIGPIPE is ignored (a closed output is an error of a
 * write), so that what a demo changed (sysctls, a swap area, a disk's
 * power and write cache) is always put back.  The cache demos and blk's
 * powercut demo use them.
 */
#include <signal.h>
#include <string.h>

#include "shikumi.h"

volatile sig_atomic_t demo_signal;

static void on_signal(int sig)
{
	demo_signal = sig;
}

void demo_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* -1 after saying so if a signal asked the demo to stop */
int demo_stopped(void)
{
	if (!demo_signal)
		return 0;
	p_err("stopped by %s", strsignal(demo_signal));
	return -1;
}
