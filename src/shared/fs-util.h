/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <dirent.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* Reads all of fd (from its current offset) into a NUL-terminated buffer; -EFBIG past max bytes. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size);
int read_full_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_size);
/* The same for a file that may be missing: then "". */
int read_file_or_empty_at(int dir_fd, const char *path, size_t max, char **ret);

/* Writes data to a temp file beside name in dir_fd, fsyncs it, and renames it over name. */
int write_file_atomic_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode);
/* The same without the fsync: for files a crash may lose (a pod's own files, stamps that mean nothing
 * after a reboot), written where the wait for the disk would slow every pod's start. */
int write_file_volatile_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode);

/* Removes name below dir_fd and everything beneath it, never following symlinks or crossing mounts.
 * Returns 0 also when name does not exist. */
int rm_rf_at(int dir_fd, const char *name);

/* Creates every missing directory of path (relative to dir_fd) with mode. */
int mkdir_p_at(int dir_fd, const char *path, mode_t mode);

/* Opens (creating if needed) dir_fd/path as a directory. */
int open_mkdir_at(int dir_fd, const char *path, mode_t mode);

/* A unique name "prefix.XXXXXXXXXXXXXXXX" for temp files and directories. */
int tempname_make(const char *prefix, char **ret);

/* A new open file description of fd's file, read-only, with an offset of its own (through /proc/self/fd). */
int fd_reopen_read(int fd);

/* Copies everything from in_fd to out_fd. */
int copy_bytes(int in_fd, int out_fd, uint64_t max, uint64_t *ret_copied);

/* Everything in directory src_fd copied into directory dst_fd, recursively, with owners, modes and
 * times: directories, regular files, symbolic links (as links, never followed), device nodes, FIFOs and
 * sockets. Nothing may exist in dst_fd under the same names (-EEXIST). Hard links become copies; what is
 * mounted below src_fd is left out. */
int copy_tree_at(int src_fd, int dst_fd);

/* The same for an image layer over the layers below it, already in dst_fd: its overlayfs whiteouts (0/0
 * character devices) remove what they name, an opaque directory (trusted.overlay.opaque) replaces the one
 * below, other directories merge, anything else replaces what is there. */
int copy_layer_merge_at(int src_fd, int dst_fd);

/* The names in d (read from where it is) ending in suffix, hidden ones left out, sorted: a conf.d's files. */
int readdir_names_sorted(DIR *d, const char *suffix, char ***ret);

/* opendir() of path relative to dir_fd ("." for dir_fd itself, which stays open and unmoved). */
int opendir_at(int dir_fd, const char *path, DIR **ret);

/* One file descriptor over a Unix socket (SCM_RIGHTS), with one byte of data; the received one is
 * close-on-exec. -EBADMSG when the message carries none (the sender went away). */
int fd_send(int sock, int fd);
int fd_recv(int sock);

/* Connects sock to the Unix socket at path in the root of process pid (a pod's), resolved within that root:
 * its symbolic links cannot lead out of it (as /proc/PID/root/PATH would let them, to our own files). */
int socket_connect_in_root(int sock, pid_t pid, const char *path);
