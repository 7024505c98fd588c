/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The contract between rocket (stage0) and a stage1, in one place; rocket-stage1(7) describes it for
 * those who write a stage1 of their own. libc only: the in-pod helper includes it too. */

/* The interface version a stage1 declares in stage1.json ("interface"). */
#define STAGE1_INTERFACE 1

/* Entrypoints: executables of these names in the stage1's directory. */
#define STAGE1_ENTRYPOINT_RUN "run"
#define STAGE1_ENTRYPOINT_ENTER "enter"
#define STAGE1_ENTRYPOINT_STOP "stop"
#define STAGE1_ENTRYPOINT_GC "gc"
/* A stage1 that lists "mutable-pods" in its features: apps of a running sandbox pod (rocket app …). */
#define STAGE1_ENTRYPOINT_APP_ADD "app-add"
#define STAGE1_ENTRYPOINT_APP_START "app-start"
#define STAGE1_ENTRYPOINT_APP_STOP "app-stop"
#define STAGE1_ENTRYPOINT_APP_RM "app-rm"
/* A stage1 that lists "app-io" in its features: apps' terminals and streams (rocket attach, run -i/-t). */
#define STAGE1_ENTRYPOINT_ATTACH "attach"

/* An entrypoint runs with the pod directory as its working directory and open as fd 3; run gets the
 * sockets passed to rocket (socket activation) as fds 4… in LISTEN_FDS order. */
#define STAGE1_POD_FD 3
#define STAGE1_LISTEN_FDS_START 4

/* Files of the pod directory (relative to it). "pod" is the manifest stage0 writes; the rest a stage1
 * writes, and a running pod may reach: rocket reads them as untrusted input. */
#define STAGE1_POD_MANIFEST "pod"
#define STAGE1_POD_PID "pid"                    /* the pod's PID 1, as the host sees it */
#define STAGE1_POD_EXITED "exited"              /* written when the pod has ended */
#define STAGE1_POD_CLEAN "clean"                /* written after that when the stage1 left nothing of the pod
                                                 * outside its directory but the journal link: rocket removes
                                                 * the pod without the gc entrypoint (and the link itself) */
#define STAGE1_POD_READY "ready"                /* written once every app has started */
#define STAGE1_POD_LIMITS "limits"              /* the pod's own limits and whether they are in force */
#define STAGE1_POD_NET "net"                    /* NAME.json: each CNI network's cached result, while ADDed;
                                                 * resolv.conf and hosts as the apps get them */
#define STAGE1_POD_MDS_TOKEN "mds-token"        /* --mds-register: the pod's metadata service token (root's) */
#define STAGE1_POD_MDS_HOST STAGE1_POD_NET "/mds-host"
                                                /* the address the pod reaches the host on (stage1's) */
#define STAGE1_MDS_PORT 18112                   /* the metadata service's TCP port on the host */
#define STAGE1_APP_EXIT_FILE "exit"
#define STAGE1_APP_EXIT "apps/%s/" STAGE1_APP_EXIT_FILE /* an app's exit record (exit-record.h), by app name */
#define STAGE1_APP_STARTED_FILE "started"
#define STAGE1_APP_STARTED "apps/%s/" STAGE1_APP_STARTED_FILE
                                                /* in a sandbox: "USEC PID" when the app last started (PID in
                                                 * the pod's PID namespace); an exit record older than it is gone */

/* Where stage1-systemd puts a pod's pieces, as its systemd sees them. */
#define STAGE1_POD_DIR "/rocket/pod"
#define STAGE1_STAGE2_DIR "/opt/stage2"
#define STAGE1_HELPER "/usr/lib/systemd/rocket-pod-helper"
/* In the stage1 root: for each app, APP.exec and APP.env (NUL-separated words: the helper's exec options,
 * the app's environment), and "default" (the first app's name), for the shell entry (/usr/bin/sh). */
#define STAGE1_APPS_DIR "/etc/rocket/apps"
