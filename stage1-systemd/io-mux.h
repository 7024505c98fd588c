/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The I/O multiplexer of an app whose stdin, stdout or stderr is a tty or a stream (io-proto.h): the app's
 * service runs it as its main process (rocket-pod-helper exec); it makes the app's pseudo-terminal or pipes,
 * listens on the app's I/O socket, starts the app on them (app_exec(), as any app) and relays: the app's
 * output to the journal (its own stdout and stderr) and to every attached client, the clients' input to
 * the app. It ends with the app, with the app's exit status, once its output is drained. libc only. */

#include "app-exec.h"
#include "io-proto.h"

typedef struct IoMuxConfig {
        AppIOMode in, out, err;
        bool wait_attach;       /* start the app only once a client has attached (rocket run -i) */
} IoMuxConfig;

_noreturn_ void io_mux_exec(const AppExec *e, const IoMuxConfig *c);
