/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "digest.h"
#include "fs-util.h"
#include "json-util.h"
#include "pod-userns.h"
#include "log.h"
#include "rocket-pod.h"
#include "run-args.h"
#include "stage1-abi.h"
#include "string-util.h"
#include "time-util.h"
#include "exit-record.h"

int rocket_pods_open(RocketContext *ctx, bool create, int *ret_fd) {
        int r;

        r = pods_open(ctx->dir, create, ret_fd);
        if (r == -ENOENT && !create)
                return log_debug_errno(r, "No pods at '%s/pods' yet.", ctx->dir);
        if (r == -EACCES || r == -EPERM)
                return log_error_errno(r, "Cannot open the pods at '%s/pods': %m (run as root or as a member of group "
                                       "'rocket').", ctx->dir);
        if (r < 0)
                return log_error_errno(r, "Failed to open the pods at '%s/pods': %m", ctx->dir);
        return 0;
}

int rocket_pods_open_existing(RocketContext *ctx, int *ret_fd) {
        int r = rocket_pods_open(ctx, false, ret_fd);

        if (r == -ENOENT) {
                *ret_fd = -EBADF;
                return 0;
        }
        return r;
}

int rocket_pod_find(RocketContext *ctx, const char *what, int *ret_pods_fd, Pod **ret) {
        int r = rocket_pods_open_existing(ctx, ret_pods_fd);

        if (r < 0)
                return r;
        return rocket_pod_resolve(*ret_pods_fd, what, ret);
}

int rocket_pod_resolve(int pods_fd, const char *what, Pod **ret) {
        int r;

        r = pods_fd < 0 ? -ENOENT : pod_resolve(pods_fd, what, ret);
        if (r == -ENOENT)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No pod is named '%s' or has a UUID starting with it.",
                                       what);
        if (r == -ENOTUNIQ)
                return log_error_errno(r, "'%s' matches more than one pod UUID; give more of it.", what);
        if (r < 0)
                return log_error_errno(r, "Failed to look up pod '%s': %m", what);
        return 0;
}

int rocket_stage1_id(const char *dir, char ret[static DIGEST_STRING_MAX]) {
        _cleanup_(sha256_freep) Sha256 *h = sha256_new();
        _cleanup_close_ int dir_fd = -EBADF;
        int r;

        if (!h)
                return -ENOMEM;
        dir_fd = open(dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        for (const char *const *f = (const char *const[]) { "stage1.json", STAGE1_ENTRYPOINT_RUN, NULL }; *f; f++) {
                _cleanup_close_ int fd = openat(dir_fd, *f, O_RDONLY|O_CLOEXEC);
                char buf[64 * 1024];
                ssize_t n;

                if (fd < 0)
                        return -errno;
                while ((n = read(fd, buf, sizeof buf)) > 0) {
                        r = sha256_update(h, buf, (size_t) n);
                        if (r < 0)
                                return r;
                }
                if (n < 0)
                        return -errno;
        }
        return sha256_final(h, ret);
}

/* --stage1-hash: the one installed stage1 (stage1-* in images) whose ID starts with what is given. */
static int stage1_by_id(const char *images, const char *want, char **ret) {
        _cleanup_(closedirp) DIR *d = opendir(images);
        const char *hex = startswith(want, DIGEST_PREFIX) ?: want;
        _cleanup_free_ char *found = NULL;

        if (strlen(hex) < 8 || strlen(hex) > DIGEST_HEX_LEN || strspn(hex, "0123456789abcdef") != strlen(hex))
                return log_usage("Invalid stage1 ID '%s' (sha256: and at least 8 hex digits; see 'rocket version').", want);
        if (!d)
                return log_error_errno(errno, "Cannot read the stage1 images directory %s: %m", images);
        for (struct dirent *de; (de = readdir(d)); ) {
                _cleanup_free_ char *dir = NULL;
                char id[DIGEST_STRING_MAX];

                if (!startswith(de->d_name, "stage1-") || asprintf(&dir, "%s/%s", images, de->d_name) < 0 ||
                    rocket_stage1_id(dir, id) < 0 || !startswith(digest_hex(id), hex))
                        continue;
                if (found)
                        return log_error_errno(SYNTHETIC_ERRNO(ENOTUNIQ), "Stage1 ID '%s' is both %s's and %s's; give more of it.",
                                               want, found, dir);
                found = TAKE_PTR(dir);
        }
        if (!found)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No stage1 installed in %s has the ID '%s'.", images, want);
        *ret = TAKE_PTR(found);
        return 0;
}

int rocket_stage1_dir(const RocketContext *ctx, const Stage1Choice *c, char **ret) {
        _cleanup_free_ char *dir = NULL, *name = NULL;
        const char *images = ctx->config.stage1_images ?: ROCKET_STAGE1_DIR, *e = getenv("ROCKET_STAGE1_PATH");

        /* The command line's, then the environment's, then the configuration's (stage1.d), then ours. */
        if (c->path)
                dir = strdup(c->path);
        else if (c->hash) {
                int r = stage1_by_id(images, c->hash, &dir);

                if (r < 0)
                        return r;
        } else if (c->name || (!c->from_dir && isempty(e) && !ctx->config.stage1_location && ctx->config.stage1_name)) {
                if (stage1_name_normalize(c->name ?: ctx->config.stage1_name, &name) < 0)
                        return log_usage("Invalid stage1 name '%s'.", c->name ?: ctx->config.stage1_name);
                if (asprintf(&dir, "%s/stage1-%s", images, name) < 0)
                        dir = NULL;
        } else if (c->from_dir) {
                /* rkt's: a stage1 in the stage1 images directory, by its file name ("stage1-fly.aci" is our
                 * directory stage1-fly). */
                _cleanup_free_ char *base = strndup(c->from_dir, strlen(c->from_dir) -
                                                    (endswith(c->from_dir, ".aci") ? strlen(".aci") : 0));

                if (!base)
                        return log_oom();
                if (isempty(base) || strchr(base, '/') || streq(base, ".") || streq(base, ".."))
                        return log_usage("Invalid stage1 directory name '%s'.", c->from_dir);
                if (asprintf(&dir, "%s/%s", images, base) < 0)
                        dir = NULL;
        } else
                dir = strdup(!isempty(e) ? e : ctx->config.stage1_location ?: ROCKET_STAGE1_DEFAULT);
        if (!dir)
                return log_oom();
        *ret = TAKE_PTR(dir);
        return 0;
}

int rocket_stage1_find(const RocketContext *ctx, const Stage1Choice *c, char **ret) {
        _cleanup_free_ char *dir = NULL, *abs = NULL, *run = NULL, *json = NULL;
        int r;

        r = rocket_stage1_dir(ctx, c, &dir);
        if (r < 0)
                return r;
        abs = realpath(dir, NULL);
        if (!abs)
                return log_error_errno(errno, "No stage1 at '%s': %m", dir);
        if (asprintf(&run, "%s/" STAGE1_ENTRYPOINT_RUN, abs) < 0 || asprintf(&json, "%s/stage1.json", abs) < 0)
                return log_oom();
        if (access(run, X_OK) < 0 || access(json, R_OK) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "'%s' is not a stage1 (no run entrypoint or stage1.json).",
                                       abs);
        *ret = TAKE_PTR(abs);
        return 0;
}

int rocket_stage1_features(const char *dir, char ***ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *json = NULL;
        int r;

        if (asprintf(&json, "%s/stage1.json", dir) < 0)
                return log_oom();
        r = json_parse_file_at(AT_FDCWD, json, 64 * 1024, &o);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", json);
        r = json_get_strv(o, "features", &l);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "%s: invalid \"features\": %m", json);
        *ret = TAKE_PTR(l);
        return 0;
}

/* fd 3 = the pod directory, 4… = the passed sockets, nothing else open across the exec. */
int rocket_fds_arrange(int pod_fd, const int *listen_fds, size_t n) {
        int tmp_pod, *tmp = calloc(n + 1, sizeof(int));

        if (!tmp)
                return -ENOMEM;
        /* Out of the way first, so that no dup2() below overwrites a source. */
        tmp_pod = fcntl(pod_fd, F_DUPFD_CLOEXEC, 100);
        for (size_t i = 0; i < n; i++)
                tmp[i] = fcntl(listen_fds[i], F_DUPFD_CLOEXEC, 100);
        if (tmp_pod < 0 || dup2(tmp_pod, STAGE1_POD_FD) < 0)
                return -errno;
        for (size_t i = 0; i < n; i++)
                if (tmp[i] < 0 || dup2(tmp[i], STAGE1_LISTEN_FDS_START + (int) i) < 0)
                        return -errno;
        free(tmp);
        return 0;
}

/* Owned by root and writable by nobody else (a group that is not root's included). */
static int check_root_only(const char *path, bool dir) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return -errno;
        if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
                return -EBADE;
        if (st.st_uid != 0 || (st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != 0))
                return -EPERM;
        return 0;
}

int rocket_stage1_entrypoint(int pods_fd, const char *stage1, const char *entrypoint, char **ret) {
        _cleanup_free_ char *dir = NULL, *pods = NULL, *walk = NULL, *entry = NULL, *real = NULL;
        char self[64];
        int r;

        /* The manifest names the stage1, and a running pod can reach its manifest: what it names is run as
         * root on the host only if an administrator could have put it there, and no pod. */
        dir = realpath(stage1, NULL);
        if (!dir)
                return -errno;
        snprintf(self, sizeof self, "/proc/self/fd/%i", pods_fd);
        pods = pods_fd >= 0 ? realpath(self, NULL) : NULL;
        if (pods && (streq(dir, pods) || (startswith(dir, pods) && dir[strlen(pods)] == '/')))
                return -EPERM;
        walk = strdup(dir);
        if (!walk)
                return -ENOMEM;
        /* The directory and each one above it: realpath() left no link among them. */
        for (;;) {
                r = check_root_only(*walk ? walk : "/", true);
                if (r < 0)
                        return r;
                if (!*walk)
                        break;
                *strrchr(walk, '/') = 0;
        }
        if (asprintf(&entry, "%s/%s", dir, entrypoint) < 0)
                return -ENOMEM;
        /* Entrypoints may be links to one binary, within the stage1's directory. */
        real = realpath(entry, NULL);
        if (!real)
                return -errno;
        if (!startswith(real, dir) || real[strlen(dir)] != '/' || strchr(real + strlen(dir) + 1, '/'))
                return -EPERM;
        r = check_root_only(real, false);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(real);
        return 0;
}

/* The entrypoint to run, checked; logs why not. */
static int entrypoint_find(int pods_fd, const Pod *p, const char *entrypoint, char **ret) {
        int r;

        if (!p->manifest)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Pod %s has no readable manifest.", p->uuid);
        r = rocket_stage1_entrypoint(pods_fd, p->manifest->stage1, entrypoint, ret);
        if (r < 0)
                return log_error_errno(r, "Refusing to run the %s entrypoint of the stage1 at '%s' that pod %s names: %s",
                                       entrypoint, p->manifest->stage1, p->uuid,
                                       r == -EPERM ? "not a root-only directory outside the pods" : strerror(-r));
        return 0;
}

static _noreturn_ void exec_entrypoint(const Pod *p, int pod_fd, const char *path, const char *entrypoint,
                                       char *const *args, const int *listen_fds, size_t n_listen_fds) {
        _cleanup_free_ char *name = NULL;
        char **argv;
        size_t n = strv_length((char **) args), i = 0;

        argv = calloc(n + 2, sizeof(char *));
        if (!argv || asprintf(&name, "%s/%s", p->manifest->stage1, entrypoint) < 0)
                _exit(EXIT_STAGE_ERROR);
        /* The checked file, under the entrypoint's name: a stage1 may be one binary that goes by it. */
        argv[i++] = name;
        for (size_t j = 0; j < n; j++)
                argv[i++] = args[j];
        if (fchdir(pod_fd) < 0) {
                log_error_errno(errno, "Failed to enter the pod directory: %m");
                _exit(EXIT_STAGE_ERROR);
        }
        if (rocket_fds_arrange(pod_fd, listen_fds, n_listen_fds) < 0) {
                log_error_errno(errno, "Failed to pass file descriptors to the stage1: %m");
                _exit(EXIT_STAGE_ERROR);
        }
        execv(path, argv);
        log_error_errno(errno, "Failed to execute the stage1's %s entrypoint %s: %m", entrypoint, path);
        _exit(EXIT_STAGE_ERROR);
}

int rocket_stage1_call(int pods_fd, const Pod *p, const char *entrypoint, char *const *args) {
        _cleanup_free_ char *path = NULL;
        pid_t pid;
        int r, status;

        r = entrypoint_find(pods_fd, p, entrypoint, &path);
        if (r < 0)
                return r;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "fork: %m");
        if (pid == 0)
                exec_entrypoint(p, p->dir_fd, path, entrypoint, args, NULL, 0);
        if (waitpid(pid, &status, 0) < 0)
                return log_error_errno(errno, "waitpid: %m");
        return wait_status_to_exit_code(status);
}

int rocket_stage1_exec(int pods_fd, const Pod *p, int pod_fd, const char *entrypoint, char *const *args,
                       const int *listen_fds, size_t n_listen_fds) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = entrypoint_find(pods_fd, p, entrypoint, &path);
        if (r < 0)
                return r;
        fflush(stdout);
        fflush(stderr);
        exec_entrypoint(p, pod_fd, path, entrypoint, args, listen_fds, n_listen_fds);
}

int rocket_pods_images_in_use(RocketContext *ctx, char ***ret) {
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        Pod **l = NULL;
        size_t n = 0;
        int r;

        r = pods_open(ctx->dir, false, &pods_fd);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        r = pod_list_summaries(pods_fd, &l, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (!l[i]->manifest)
                        continue;
                for (size_t j = 0; j < l[i]->manifest->n_apps && r >= 0; j++)
                        if (!strv_contains(ids, l[i]->manifest->apps[j].image_id))
                                r = strv_extend(&ids, l[i]->manifest->apps[j].image_id);
        }
        pod_array_free(l, n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ids);
        return 0;
}

int rocket_uuid_file_read(const char *verb, const char *path, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r;

        r = read_full_file_at(AT_FDCWD, path, 256, &text, &n);
        if (r < 0)
                return log_error_errno(r, "%s: cannot read UUID file '%s': %m", verb, path);
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
                text[--n] = 0;
        if (!pod_uuid_is_valid(text))
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: '%s' holds no pod UUID.", verb, path);
        *ret = TAKE_PTR(text);
        return 0;
}

int rocket_pod_targets(const char *verb, const char *uuid_file, int argc, char *argv[], char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (int i = optind; i < argc; i++)
                if (strv_extend(&l, argv[i]) < 0)
                        return log_oom();
        if (uuid_file) {
                _cleanup_free_ char *uuid = NULL;

                r = rocket_uuid_file_read(verb, uuid_file, &uuid);
                if (r < 0)
                        return r;
                if (strv_push(&l, TAKE_PTR(uuid)) < 0)
                        return log_oom();
        }
        if (!l)
                return log_usage("%s: no POD given.", verb);
        *ret = TAKE_PTR(l);
        return 0;
}

int rocket_pod_find_arg(RocketContext *ctx, const char *verb, const char *uuid_file, int argc, char *argv[],
                        int *ret_pods_fd, Pod **ret, int *ret_consumed) {
        _cleanup_free_ char *uuid = NULL;
        int r;

        if (uuid_file) {
                r = rocket_uuid_file_read(verb, uuid_file, &uuid);
                if (r < 0)
                        return r;
                if (ret_consumed)
                        *ret_consumed = 0;
                return rocket_pod_find(ctx, uuid, ret_pods_fd, ret);
        }
        if (argc - optind < 1)
                return log_usage("%s: no POD given.", verb);
        if (ret_consumed)
                *ret_consumed = 1;
        return rocket_pod_find(ctx, argv[optind], ret_pods_fd, ret);
}


/* Waits until nobody holds the pod's lock, polling (the holders' shared locks never block a shared one). */
int pod_wait_unlocked(const Pod *p, uint64_t timeout_usec) {
        uint64_t deadline = timeout_usec ? now_realtime_usec() + timeout_usec : 0;

        while (pod_is_locked(p->dir_fd)) {
                if (deadline && now_realtime_usec() > deadline)
                        return -ETIMEDOUT;
                usleep(50 * 1000);
        }
        return 0;
}

/* Removes a pod that nobody runs: the stage1's gc entrypoint, then the directory. */
int rocket_pod_remove(int pods_fd, Pod *p) {
        char *none[] = { NULL };
        int r;

        r = pod_lock_exclusive(p->dir_fd);
        if (r < 0)
                return log_error_errno(r, "Pod %s is in use.", p->uuid);
        /* A pod its stage1 ended cleanly needs no process of the stage1's: only the journal link goes. */
        if (p->manifest && IN_SET(p->state, POD_EXITED, POD_EXITED_GARBAGE) && pod_ended_clean(p))
                pod_unlink_journal(p);
        else if (p->manifest && IN_SET(p->state, POD_EXITED, POD_EXITED_GARBAGE)) {
                r = rocket_stage1_call(pods_fd, p, STAGE1_ENTRYPOINT_GC, none);
                if (r != 0)
                        log_warning("The stage1's gc of pod %s failed; removing the pod anyway.", p->uuid);
        }
        r = pod_remove(pods_fd, p);
        if (r < 0)
                return log_error_errno(r, "Failed to remove pod %s: %m", p->uuid);
        pod_userns_release(ROCKET_USERNS_REGISTRY, pods_fd, p);
        return 0;
}

int rocket_pod_check_running(const Pod *p, const char *feature, const char *cannot) {
        _cleanup_strv_free_ char **features = NULL;
        int r;

        if (!p->manifest)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Pod %s has no readable manifest.", p->uuid);
        if (p->state != POD_RUNNING || !pod_is_locked(p->dir_fd))
                return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "Pod %s is %s, not running.", p->uuid,
                                       p->state == POD_RUNNING ? "exited" : pod_state_to_string(p->state));
        r = rocket_stage1_features(p->manifest->stage1, &features);
        if (r < 0)
                return r;
        if (!strv_contains(features, feature))
                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP), "The stage1 at %s %s (its stage1.json lists no '%s').",
                                       p->manifest->stage1, cannot, feature);
        return 0;
}
