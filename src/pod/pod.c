/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <unistd.h>

#include <systemd/sd-id128.h>

#include "fs-util.h"
#include "exit-record.h"
#include "pod.h"
#include "stage1-abi.h"
#include "string-util.h"

static const char *const pod_state_table[_POD_STATE_MAX] = {
        [POD_EMBRYO] = "embryo",
        [POD_PREPARING] = "preparing",
        [POD_PREPARED] = "prepared",
        [POD_RUNNING] = "running",
        [POD_EXITED] = "exited",
        [POD_EXITED_GARBAGE] = "exited-garbage",
        [POD_GARBAGE] = "garbage",
};

DEFINE_STRING_TABLE(pod_state, PodState, _POD_STATE_MAX);

const char *pod_state_dir(PodState s) {
        switch (s) {
        case POD_EMBRYO:
        case POD_PREPARING:
                return "embryo";
        case POD_PREPARED:
                return "prepared";
        case POD_RUNNING:
        case POD_EXITED:
                return "run";
        case POD_EXITED_GARBAGE:
                return "exited-garbage";
        case POD_GARBAGE:
                return "garbage";
        default:
                return NULL;
        }
}

/* The directories in the order a pod moves through them; listing follows it too. */
static const PodState dir_states[] = { POD_EMBRYO, POD_PREPARED, POD_RUNNING, POD_EXITED_GARBAGE, POD_GARBAGE };

Pod *pod_free(Pod *p) {
        if (!p)
                return NULL;
        free(p->uuid);
        free(p->path);
        safe_close(p->dir_fd);
        pod_manifest_free(p->manifest);
        for (size_t i = 0; i < p->n_apps; i++) {
                free(p->apps[i].name);
                free(p->apps[i].how);
        }
        free(p->apps);
        free(p);
        return NULL;
}

void pod_array_free(Pod **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                pod_free(l[i]);
        free(l);
}

int pods_open(const char *rocket_dir, bool create, int *ret_fd) {
        _cleanup_close_ int root = -EBADF, fd = -EBADF;
        int r;

        if (create) {
                root = open_mkdir_at(AT_FDCWD, rocket_dir, 0755);
                if (root < 0)
                        return root;
                fd = open_mkdir_at(root, "pods", 0750);
                if (fd < 0)
                        return fd;
                for (size_t i = 0; i < ELEMENTSOF(dir_states); i++) {
                        r = mkdir_p_at(fd, pod_state_dir(dir_states[i]), 0750);
                        if (r < 0)
                                return r;
                }
        } else {
                root = open(rocket_dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
                if (root < 0)
                        return -errno;
                fd = openat(root, "pods", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
                if (fd < 0)
                        return -errno;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int pod_lock_exclusive(int dir_fd) {
        if (flock(dir_fd, LOCK_EX|LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        return 0;
}

bool pod_is_locked(int dir_fd) {
        _cleanup_close_ int fd = -EBADF;

        /* A lock of our own on a new open file description, so dir_fd's own lock (if any) is not it. */
        fd = openat(dir_fd, ".", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (fd < 0)
                return false;
        if (flock(fd, LOCK_EX|LOCK_NB) < 0)
                return errno == EWOULDBLOCK;
        (void) flock(fd, LOCK_UN);
        return false;
}

static uint64_t mtime_usec_at(int dir_fd, const char *path) {
        struct stat st;

        if (fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        return (uint64_t) st.st_mtim.tv_sec * 1000000 + (uint64_t) st.st_mtim.tv_nsec / 1000;
}

int pod_read_written_file(int dir_fd, const char *path, size_t max, char **ret) {
        struct open_how how = {
                .flags = O_RDONLY|O_NONBLOCK|O_NOCTTY|O_CLOEXEC,
                .resolve = RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS,
        };
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = (int) syscall(SYS_openat2, dir_fd, path, &how, sizeof how);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        return read_full_fd(fd, max, ret, NULL);
}

/* apps/APP/exit (exit-record.h): what the pod wrote, parsed as untrusted; anything else is no record. */
static int read_app_exit(int dir_fd, const char *app, PodAppStatus *st) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        ExitRecord rec;

        if (asprintf(&path, STAGE1_APP_EXIT, app) < 0)
                return -ENOMEM;
        if (pod_read_written_file(dir_fd, path, EXIT_RECORD_MAX, &text) < 0)
                return 0;
        if (exit_record_parse(text, &rec) < 0)
                return 0;
        st->how = strdup(rec.how);
        if (!st->how)
                return -ENOMEM;
        st->exited = true;
        st->status = rec.status;
        st->when_usec = rec.when_usec;
        return 0;
}

/* In a sandbox: when the app last started, and its PID in the pod ("USEC PID"). */
static void read_app_started(int dir_fd, const char *app, PodAppStatus *st) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        unsigned long long usec;
        long pid;
        char nl;

        if (asprintf(&path, STAGE1_APP_STARTED, app) < 0 ||
            pod_read_written_file(dir_fd, path, 64, &text) < 0)
                return;
        if (sscanf(text, "%llu %ld%c", &usec, &pid, &nl) != 3 || nl != '\n' || pid < 0 || pid > INT32_MAX)
                return;
        st->started = true;
        st->started_usec = (uint64_t) usec;
        st->pod_pid = (pid_t) pid;
}

static int read_pid(int dir_fd, pid_t *ret) {
        _cleanup_free_ char *text = NULL;
        char *end;
        long v;

        if (read_full_file_at(dir_fd, STAGE1_POD_PID, 64, &text, NULL) < 0)
                return -ENOENT;
        v = strtol(text, &end, 10);
        if (end == text || (*end && *end != '\n') || v <= 1)
                return -EBADMSG;
        *ret = (pid_t) v;
        return 0;
}

static int load(int pods_fd, PodState dir_state, const char *uuid, bool summary, Pod **ret) {
        _cleanup_(pod_freep) Pod *p = calloc(1, sizeof(Pod));
        _cleanup_free_ char *rel = NULL;
        char mid[33];
        int r;

        if (!p)
                return -ENOMEM;
        p->dir_fd = -EBADF;
        if (pod_machine_id(uuid, mid) < 0 || strlen(uuid) != 36)
                return -EINVAL;
        p->uuid = strdup(uuid);
        if (!p->uuid || asprintf(&rel, "%s/%s", pod_state_dir(dir_state), uuid) < 0)
                return -ENOMEM;
        p->dir_fd = openat(pods_fd, rel, O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_NOFOLLOW);
        if (p->dir_fd < 0)
                return -errno;
        p->path = TAKE_PTR(rel);

        p->state = dir_state;
        if (dir_state == POD_EMBRYO && pod_is_locked(p->dir_fd))
                p->state = POD_PREPARING;
        else if (dir_state == POD_RUNNING && !pod_is_locked(p->dir_fd))
                p->state = POD_EXITED;

        /* The summary where it is enough and there is one (pods made before summaries have none). */
        r = summary ? pod_manifest_load_summary_at(p->dir_fd, "summary", &p->manifest) : -ENOENT;
        if (r == -ENOENT)
                r = pod_manifest_load_at(p->dir_fd, STAGE1_POD_MANIFEST, &p->manifest);
        if (r < 0 && dir_state != POD_EMBRYO && dir_state != POD_GARBAGE)
                p->manifest = NULL;     /* listed as broken; gc removes what never became a pod */

        p->created_usec = p->manifest ? p->manifest->created_usec : mtime_usec_at(p->dir_fd, ".");
        p->started_usec = mtime_usec_at(p->dir_fd, STAGE1_POD_PID);
        p->finished_usec = mtime_usec_at(p->dir_fd, STAGE1_POD_EXITED);
        (void) read_pid(p->dir_fd, &p->pid);

        if (p->manifest) {
                p->n_apps = p->manifest->n_apps;
                p->apps = calloc(p->n_apps, sizeof(PodAppStatus));
                if (!p->apps)
                        return -ENOMEM;
                for (size_t i = 0; i < p->n_apps; i++) {
                        p->apps[i].name = strdup(p->manifest->apps[i].name);
                        if (!p->apps[i].name)
                                return -ENOMEM;
                        r = read_app_exit(p->dir_fd, p->apps[i].name, &p->apps[i]);
                        if (r < 0)
                                return r;
                        if (p->manifest->sandbox)
                                read_app_started(p->dir_fd, p->apps[i].name, &p->apps[i]);
                        /* Without the stage1's "exited" (its supervisor was killed), the last app exit. */
                        if (p->state >= POD_EXITED && p->finished_usec == 0)
                                p->finished_usec = MAX(p->finished_usec, p->apps[i].when_usec);
                }
        }
        *ret = TAKE_PTR(p);
        return 0;
}

static int cmp_created(const void *a, const void *b) {
        const Pod *x = *(Pod *const *) a, *y = *(Pod *const *) b;

        if (x->created_usec != y->created_usec)
                return x->created_usec < y->created_usec ? -1 : 1;
        return strcmp(x->uuid, y->uuid);
}

bool pod_exists(int pods_fd, const char *uuid) {
        for (size_t i = 0; i < ELEMENTSOF(dir_states); i++) {
                char rel[128];

                snprintf(rel, sizeof rel, "%s/%s", pod_state_dir(dir_states[i]), uuid);
                if (faccessat(pods_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        return true;
        }
        return false;
}

int pod_load(int pods_fd, PodState dir_state, const char *uuid, Pod **ret) {
        return load(pods_fd, dir_state, uuid, false, ret);
}

static int list(int pods_fd, bool summary, Pod ***ret, size_t *ret_n) {
        Pod **l = NULL;
        size_t n = 0;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dir_states); i++) {
                _cleanup_(closedirp) DIR *d = NULL;

                r = opendir_at(pods_fd, pod_state_dir(dir_states[i]), &d);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        goto fail;
                for (struct dirent *de; (de = readdir(d)); ) {
                        Pod *p = NULL, **t;

                        if (de->d_name[0] == '.')
                                continue;
                        r = load(pods_fd, dir_states[i], de->d_name, summary, &p);
                        if (r == -ENOENT || r == -EINVAL)
                                continue;       /* moved meanwhile, or not a pod */
                        if (r < 0)
                                goto fail;
                        t = realloc(l, (n + 1) * sizeof(Pod *));
                        if (!t) {
                                pod_free(p);
                                r = -ENOMEM;
                                goto fail;
                        }
                        l = t;
                        l[n++] = p;
                }
        }
        if (n > 0)
                qsort(l, n, sizeof(Pod *), cmp_created);
        *ret = l;
        *ret_n = n;
        return 0;
fail:
        pod_array_free(l, n);
        return r;
}

int pod_list(int pods_fd, Pod ***ret, size_t *ret_n) {
        return list(pods_fd, false, ret, ret_n);
}

int pod_list_summaries(int pods_fd, Pod ***ret, size_t *ret_n) {
        return list(pods_fd, true, ret, ret_n);
}

int pod_resolve(int pods_fd, const char *what, Pod **ret) {
        Pod **l = NULL, *found = NULL;
        size_t n = 0, n_prefix = 0;
        int r;

        if (isempty(what))
                return -ENOENT;
        r = pod_list(pods_fd, &l, &n);
        if (r < 0)
                return r;
        /* Exact UUID, then name, then UUID prefix. */
        for (size_t i = 0; i < n && !found; i++)
                if (streq(l[i]->uuid, what))
                        found = l[i];
        for (size_t i = n; i > 0 && !found; i--) {
                Pod *p = l[i - 1];

                if (p->manifest && streq(p->manifest->name, what) && p->state < POD_EXITED)
                        found = p;
        }
        for (size_t i = n; i > 0 && !found; i--) {
                Pod *p = l[i - 1];

                if (p->manifest && streq(p->manifest->name, what))
                        found = p;
        }
        if (!found)
                for (size_t i = 0; i < n; i++)
                        if (startswith(l[i]->uuid, what)) {
                                found = l[i];
                                n_prefix++;
                        }
        if (n_prefix > 1) {
                pod_array_free(l, n);
                return -ENOTUNIQ;
        }
        if (found)
                for (size_t i = 0; i < n; i++)
                        if (l[i] == found)
                                l[i] = NULL;
        pod_array_free(l, n);
        if (!found)
                return -ENOENT;
        *ret = found;
        return 0;
}

/* The host's /var/log/journal/MACHINE-ID link to the pod's journal (the stage1 makes it), and where it
 * points: -ENOENT unless it points at a directory UUID/journal of this pod. */
static int journal_link(const Pod *p, char link[static PATH_MAX], char target[static PATH_MAX]) {
        char mid[33];
        ssize_t n;

        if (pod_machine_id(p->uuid, mid) < 0)
                return -EINVAL;
        snprintf(link, PATH_MAX, "/var/log/journal/%s", mid);
        n = readlink(link, target, PATH_MAX - 1);
        if (n <= 0)
                return -ENOENT;
        target[n] = 0;
        return endswith(target, strjoina(p->uuid, "/journal")) ? 0 : -ENOENT;
}

/* The link follows the pod from state to state. */
static void relink_journal(int pods_fd, const Pod *p, const char *dst) {
        char link[PATH_MAX], old[PATH_MAX], self[64];
        _cleanup_free_ char *pods = NULL, *target = NULL;

        if (journal_link(p, link, old) < 0)
                return;
        snprintf(self, sizeof self, "/proc/self/fd/%i", pods_fd);
        pods = realpath(self, NULL);
        if (!pods || asprintf(&target, "%s/%s/journal", pods, dst) < 0 || streq(old, target))
                return;
        if (unlink(link) >= 0)
                (void) symlink(target, link);
}

void pod_unlink_journal(const Pod *p) {
        char link[PATH_MAX], old[PATH_MAX];

        if (journal_link(p, link, old) >= 0)
                (void) unlink(link);
}

bool pod_ended_clean(const Pod *p) {
        struct stat st;

        return fstatat(p->dir_fd, STAGE1_POD_CLEAN, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int pod_transition(int pods_fd, Pod *p, PodState to) {
        _cleanup_free_ char *dst = NULL;

        if (asprintf(&dst, "%s/%s", pod_state_dir(to), p->uuid) < 0)
                return -ENOMEM;
        if (renameat(pods_fd, p->path, pods_fd, dst) < 0)
                return -errno;
        relink_journal(pods_fd, p, dst);
        free(p->path);
        p->path = TAKE_PTR(dst);
        p->state = to;
        return 0;
}

int pod_remove(int pods_fd, Pod *p) {
        _cleanup_free_ char *tmp = NULL;
        int r;

        /* Out of sight first (a rename), then away; a crash in between leaves only a hidden directory,
         * which the next gc removes. */
        if (asprintf(&tmp, "garbage/.deleting-%s", p->uuid) < 0)
                return -ENOMEM;
        if (renameat(pods_fd, p->path, pods_fd, tmp) < 0)
                return -errno;
        r = rm_rf_at(pods_fd, tmp);
        if (r < 0)
                return r;
        free(p->path);
        p->path = TAKE_PTR(tmp);
        return 0;
}

int pod_uuid_new(char ret[static 37]) {
        sd_id128_t id;
        int r;

        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        snprintf(ret, 37, SD_ID128_UUID_FORMAT_STR, SD_ID128_FORMAT_VAL(id));
        return 0;
}

const char *pod_app_state(const Pod *p, const PodAppStatus *a) {
        if (a->exited)
                return "exited";
        /* Apps of a sandbox are created first and started on request. */
        if (p->manifest && p->manifest->sandbox && !a->started)
                return "created";
        return p->state == POD_RUNNING ? "running" : "exited";
}

bool pod_app_failed(const PodAppStatus *a) {
        ExitRecord rec = { .status = a->status };

        if (!a->exited)
                return false;
        snprintf(rec.how, sizeof rec.how, "%s", a->how);
        return exit_record_failed(&rec);
}

int pod_exit_status(const Pod *p) {
        const PodAppStatus *first = NULL;
        bool missing = false;

        for (size_t i = 0; i < p->n_apps; i++) {
                const PodAppStatus *a = &p->apps[i];

                /* A sandbox's app that was never started has no end to report. */
                if (!a->exited && p->manifest && p->manifest->sandbox && !a->started)
                        continue;
                if (!a->exited)
                        missing = true;
                else if (pod_app_failed(a) && (!first || a->when_usec < first->when_usec))
                        first = a;
        }
        /* An app that never got to run (its start cancelled when another failed) does not hide the failure. */
        if (!first)
                return missing ? -ENODATA : 0;
        return pod_app_exit_status(first);
}

int pod_app_exit_status(const PodAppStatus *a) {
        return streq(a->how, "exited") ? a->status : 128 + a->status;
}

bool pod_uuid_is_valid(const char *s) {
        if (!s || strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;

                if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        }
        return true;
}
