/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "stage1.h"
#include "string-util.h"

int unit_quote(const char *s, bool exec, char **ret) {
        size_t n = strlen(s);
        char *q = malloc(n * 4 + 3), *p = q;

        if (!q)
                return -ENOMEM;
        /* A lone ";" separates commands in Exec*= lines, even quoted; systemd reads "\;" as the word. */
        if (exec && streq(s, ";")) {
                strcpy(q, "\\;");
                *ret = q;
                return 0;
        }
        *p++ = '"';
        for (const char *c = s; *c; c++)
                switch (*c) {
                case '"':
                case '\\':
                        *p++ = '\\';
                        *p++ = *c;
                        break;
                case '\n':
                        *p++ = '\\';
                        *p++ = 'n';
                        break;
                case '\t':
                        *p++ = '\\';
                        *p++ = 't';
                        break;
                case '%':
                        *p++ = '%';
                        *p++ = '%';
                        break;
                case '$':
                        /* Exec*= lines expand $VAR; Environment= does not. */
                        *p++ = '$';
                        if (exec)
                                *p++ = '$';
                        break;
                default:
                        /* Every other control character too: systemd ends a line at a lone \r. */
                        if ((unsigned char) *c < 0x20 || (unsigned char) *c == 0x7f)
                                p += sprintf(p, "\\x%02x", (unsigned) (unsigned char) *c);
                        else
                                *p++ = *c;
                }
        *p++ = '"';
        *p = 0;
        *ret = q;
        return 0;
}

static int append(char **buf, size_t *len, const char *s) {
        size_t n = strlen(s);
        char *t = realloc(*buf, *len + n + 1);

        if (!t)
                return -ENOMEM;
        memcpy(t + *len, s, n + 1);
        *buf = t;
        *len += n;
        return 0;
}

static int append_quoted(char **buf, size_t *len, const char *prefix, const char *s, bool exec) {
        _cleanup_free_ char *q = NULL;
        int r;

        r = unit_quote(s, exec, &q);
        if (r < 0)
                return r;
        r = append(buf, len, prefix);
        return r < 0 ? r : append(buf, len, q);
}

/* The app's confinement is the helper's to apply (app-exec.h: the same code as fly's and enter's); the unit
 * carries what only the pod's systemd can do: the cgroup's device policy and limits. */
static int isolation_directives(const PodApp *a, char **u, size_t *len) {
        char line[128];
        int r = 0;

        /* Only the standard pseudo devices: mknod of anything else fails, whatever CAP_MKNOD allows. */
        if (a->mask_paths)
                r = append(u, len, "DevicePolicy=closed\n");
        if (r >= 0 && a->memory_max) {
                snprintf(line, sizeof line, "MemoryMax=%llu\n", (unsigned long long) a->memory_max);
                r = append(u, len, line);
        }
        if (r >= 0 && a->cpu_quota_milli) {
                snprintf(line, sizeof line, "CPUQuota=%llu%%\n", (unsigned long long) (a->cpu_quota_milli + 9) / 10);
                r = append(u, len, line);
        }
        if (r >= 0 && a->cpu_weight) {
                snprintf(line, sizeof line, "CPUWeight=%llu\n", (unsigned long long) a->cpu_weight);
                r = append(u, len, line);
        }
        return r;
}

/* The helper's "exec" options for the app (pod-helper.c): its user, group, working directory and
 * confinement, one word each. */
static int helper_exec_options(const PodApp *a, bool with_io, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *caps = NULL, *calls = NULL;
        int r = 0;

        /* Its I/O kept by the helper (io-mux.h): the journal and /dev/null are the unit's to set. */
        if (with_io && pod_app_has_io(a)) {
                static const char *const opt[3] = { "--stdin=", "--stdout=", "--stderr=" };

                for (int i = 0; i < 3 && r >= 0; i++)
                        r = strv_extend(&l, strjoina(opt[i], app_io_mode_to_string(a->io[i])));
                if (r >= 0 && a->interactive)
                        r = strv_extend(&l, "--wait-attach");
        }

        if (r >= 0 && a->user)
                r = strv_extend(&l, strjoina("--user=", a->user));
        if (r >= 0 && a->group)
                r = strv_extend(&l, strjoina("--group=", a->group));
        if (r >= 0 && a->working_dir)
                r = strv_extend(&l, strjoina("--workdir=", a->working_dir));
        if (r >= 0 && a->n_supplementary_gids > 0) {
                _cleanup_strv_free_ char **g = NULL;
                _cleanup_free_ char *gids = NULL;

                for (size_t i = 0; r >= 0 && i < a->n_supplementary_gids; i++) {
                        char w[16];

                        snprintf(w, sizeof w, "%u", (unsigned) a->supplementary_gids[i]);
                        r = strv_extend(&g, w);
                }
                if (r >= 0)
                        r = strv_join(g, ",", &gids);
                if (r >= 0)
                        r = strv_extend(&l, strjoina("--supplementary-gids=", gids));
        }
        if (r >= 0 && a->oom_score_adj_set) {
                char w[32];

                snprintf(w, sizeof w, "--oom-score-adj=%i", a->oom_score_adj);
                r = strv_extend(&l, w);
        }
        if (r >= 0 && !a->caps_all) {
                r = strv_join(a->caps, ",", &caps);
                if (r >= 0)
                        r = strv_extend(&l, strjoina("--caps=", caps));
        }
        if (r >= 0 && a->no_new_privs)
                r = strv_extend(&l, "--no-new-privs");
        if (r >= 0 && a->no_user_namespaces)
                r = strv_extend(&l, "--no-user-namespaces");
        if (r >= 0 && a->mask_paths)
                r = strv_extend(&l, "--mask-paths");
        if (r >= 0 && a->seccomp_mode) {
                r = strv_extend(&l, strjoina("--seccomp=", a->seccomp_mode));
                if (r >= 0)
                        r = strv_join(a->seccomp_syscalls, ",", &calls);
                if (r >= 0)
                        r = strv_extend(&l, strjoina("--syscalls=", calls));
                if (r >= 0 && a->seccomp_errno)
                        r = strv_extend(&l, strjoina("--seccomp-errno=", a->seccomp_errno));
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

/* "PREFIX<helper> exec APP OPTIONS -- ARGV": a command in the app's rootfs and confinement. */
static int append_helper_exec(char **u, size_t *len, const char *prefix, const PodApp *a, bool with_io, char **argv) {
        _cleanup_strv_free_ char **options = NULL;
        int r;

        r = append(u, len, prefix);
        if (r >= 0)
                r = append(u, len, STAGE1_HELPER " exec ");
        if (r >= 0)
                r = append(u, len, a->name);
        if (r >= 0)
                r = helper_exec_options(a, with_io, &options);
        STRV_FOREACH(o, options) {
                if (r < 0)
                        break;
                r = append_quoted(u, len, " ", *o, true);
        }
        if (r >= 0)
                r = append(u, len, " --");
        STRV_FOREACH(arg, argv) {
                if (r < 0)
                        break;
                r = append_quoted(u, len, " ", *arg, true);
        }
        if (r >= 0)
                r = append(u, len, "\n");
        return r;
}

/* The app's end recorded, by the helper outside its confinement ("+"). */
static int append_app_exited(char **u, size_t *len, const PodManifest *m, const PodApp *a) {
        int r = append(u, len, "ExecStopPost=+" STAGE1_HELPER " app-exited ");

        if (r >= 0 && m->sandbox)
                r = append(u, len, "--keep-pod ");
        if (r >= 0)
                r = append(u, len, a->name);
        if (r >= 0)
                r = append(u, len, "\n");
        return r;
}

static int app_unit(const PodManifest *m, const PodApp *a, const char *mds_url, const PassedSocket *socks, size_t n_socks,
                    char **ret) {
        _cleanup_free_ char *u = NULL, *head = NULL;
        size_t len = 0;
        int r;

        if (asprintf(&head,
                     "# Generated by rocket's stage1 for pod %s.\n"
                     "[Unit]\n"
                     "Description=%s (pod %s)\n"
                     "After=rocket-pod-lock.service\n"
                     "\n"
                     "[Service]\n"
                     "Type=exec\n"
                     "Restart=no\n"
                     "StandardInput=null\n"
                     "StandardOutput=%s\n"
                     "StandardError=%s\n"
                     "SyslogIdentifier=%s\n"
                     "TimeoutStopSec=10s\n"
                     "%s%s%s",
                     m->uuid, a->name, m->name,
                     /* Kept by the helper, its output reaches the journal through the helper's. */
                     a->io[1] == APP_IO_NULL ? "null" : "journal", a->io[2] == APP_IO_NULL ? "null" : "journal",
                     a->name,
                     /* In a sandbox apps start later, and again: when is recorded. */
                     m->sandbox ? "ExecStartPost=+" STAGE1_HELPER " app-started " : "", m->sandbox ? a->name : "",
                     m->sandbox ? "\n" : "") < 0)
                return -ENOMEM;
        r = append(&u, &len, head);
        if (r < 0)
                return r;
        STRV_FOREACH(e, a->env) {
                r = append_quoted(&u, &len, "Environment=", *e, false);
                if (r < 0)
                        return r;
                r = append(&u, &len, "\n");
                if (r < 0)
                        return r;
        }
        /* appc's metadata service, where the pod is registered with it: after the app's own environment,
         * which cannot replace it. */
        if (mds_url) {
                _cleanup_free_ char *e = NULL;

                if (asprintf(&e, "AC_METADATA_URL=%s", mds_url) < 0)
                        return -ENOMEM;
                r = append_quoted(&u, &len, "Environment=", e, false);
                if (r >= 0)
                        r = append(&u, &len, "\n");
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_socks && r >= 0; i++)
                if (socks[i].app && streq(socks[i].app, a->name)) {
                        char line[64];

                        snprintf(line, sizeof line, "Sockets=rocket-socket-%zu.socket\n", i);
                        r = append(&u, &len, line);
                }
        if (r >= 0 && a->ready_path) {
                /* Started (and the pod ready) only once the app has created this path. */
                r = append(&u, &len, "ExecStartPost=+" STAGE1_HELPER " wait-path ");
                if (r >= 0)
                        r = append(&u, &len, a->name);
                if (r >= 0)
                        r = append_quoted(&u, &len, " ", a->ready_path, true);
                if (r >= 0)
                        r = append(&u, &len, "\n");
        }
        if (r < 0)
                return r;
        r = isolation_directives(a, &u, &len);
        if (r < 0)
                return r;
        /* ($AC_APP_NAME: app_exec() sets it from the app's name.) The image's pre-start handler first, its
         * failure the app's; its post-stop one before the app's end is recorded (which may end the pod),
         * whatever that end, its own failure ignored. */
        r = 0;
        if (a->pre_start)
                r = append_helper_exec(&u, &len, "ExecStartPre=", a, false, a->pre_start);
        if (r >= 0)
                r = append_helper_exec(&u, &len, "ExecStart=", a, true, a->exec);
        if (r >= 0 && a->post_stop)
                r = append_helper_exec(&u, &len, "ExecStopPost=-", a, false, a->post_stop);
        if (r >= 0)
                r = append_app_exited(&u, &len, m, a);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(u);
        return 0;
}

static int socket_unit(const PodManifest *m, const PassedSocket *ps, char **ret) {
        if (asprintf(ret,
                     "# Generated by rocket's stage1 for pod %s: a socket passed to the pod.\n"
                     "[Unit]\n"
                     "Description=Socket %s of pod %s\n"
                     "\n"
                     "[Socket]\n"
                     "%s=%s\n"
                     "FileDescriptorName=%s\n"
                     "Service=%s.service\n"
                     "%s",
                     m->uuid, ps->name, m->name, ps->directive, ps->address, ps->name, ps->app,
                     ps->ipv6_only < 0 ? "" : ps->ipv6_only ? "BindIPv6Only=ipv6-only\n" : "BindIPv6Only=both\n") < 0)
                return -ENOMEM;
        return 0;
}

/* A list as NUL-terminated words, one after the other. */
static int write_words(int dir_fd, const char *name, char *const *l) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;

        STRV_FOREACH(w, (char **) l)
                n += strlen(*w) + 1;
        buf = malloc(n + 1);
        if (!buf)
                return -ENOMEM;
        n = 0;
        STRV_FOREACH(w, (char **) l) {
                memcpy(buf + n, *w, strlen(*w) + 1);
                n += strlen(*w) + 1;
        }
        return write_file_volatile_at(dir_fd, name, buf, n, 0600);
}

/* What the shell entry (machinectl shell/login, pod-helper.c) needs to enter an app as its service runs:
 * STAGE1_APPS_DIR/APP.exec (the helper's exec options) and APP.env (its environment). Root's only, in the
 * stage1's own tree, which no app sees. */
static int shell_files_write(int root_fd, const PodApp *a) {
        _cleanup_close_ int dir = open_mkdir_at(root_fd, STAGE1_APPS_DIR + 1, 0700);
        _cleanup_strv_free_ char **options = NULL;
        int r;

        if (dir < 0)
                return dir;
        /* A shell entered into the app has the caller's terminal, not the app's I/O. */
        r = helper_exec_options(a, false, &options);
        if (r >= 0)
                r = write_words(dir, strjoina(a->name, ".exec"), options);
        if (r >= 0)
                r = write_words(dir, strjoina(a->name, ".env"), a->env);
        return r;
}

int units_write_app(int root_fd, const PodManifest *m, const PodApp *a, const char *mds_url, const PassedSocket *socks,
                    size_t n_socks,
                    bool at_start) {
        _cleanup_close_ int dir = -EBADF, wants = -EBADF;
        _cleanup_free_ char *unit = NULL, *name = NULL, *target = NULL;
        int r;

        dir = open_mkdir_at(root_fd, "etc/systemd/system", 0755);
        if (dir < 0)
                return dir;
        r = app_unit(m, a, mds_url, socks, n_socks, &unit);
        if (r < 0)
                return r;
        if (asprintf(&name, "%s.service", a->name) < 0 || asprintf(&target, "../%s.service", a->name) < 0)
                return -ENOMEM;
        r = write_file_volatile_at(dir, name, unit, strlen(unit), 0644);
        if (r < 0)
                return r;
        if (at_start) {
                wants = open_mkdir_at(dir, "default.target.wants", 0755);
                if (wants < 0)
                        return wants;
                (void) unlinkat(wants, name, 0);
                if (symlinkat(target, wants, name) < 0)
                        return -errno;
        }
        return shell_files_write(root_fd, a);
}

int units_remove_app(int root_fd, const char *app) {
        _cleanup_close_ int dir = openat(root_fd, "etc/systemd/system", O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        _cleanup_close_ int shell = openat(root_fd, STAGE1_APPS_DIR + 1, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        int r = 0;

        if (dir < 0 || shell < 0)
                return -errno;
        if (unlinkat(dir, strjoina(app, ".service"), 0) < 0 && errno != ENOENT)
                r = -errno;
        {
                char link[PATH_MAX];

                snprintf(link, sizeof link, "default.target.wants/%s.service", app);
                (void) unlinkat(dir, link, 0);
        }
        (void) unlinkat(shell, strjoina(app, ".exec"), 0);
        (void) unlinkat(shell, strjoina(app, ".env"), 0);
        return r;
}

int units_write(int root_fd, const PodManifest *m, const char *mds_url, const PassedSocket *socks, size_t n_socks) {
        _cleanup_close_ int dir = -EBADF, swants = -EBADF, shell = -EBADF;
        int r;

        dir = open_mkdir_at(root_fd, "etc/systemd/system", 0755);
        if (dir < 0)
                return dir;
        for (size_t i = 0; i < m->n_apps; i++) {
                r = units_write_app(root_fd, m, &m->apps[i], mds_url, socks, n_socks, true);
                if (r < 0)
                        return r;
        }
        if (n_socks > 0) {
                swants = open_mkdir_at(dir, "sockets.target.wants", 0755);
                if (swants < 0)
                        return swants;
        }
        for (size_t i = 0; i < n_socks; i++) {
                _cleanup_free_ char *unit = NULL, *name = NULL, *target = NULL;

                if (!socks[i].app)
                        continue;
                r = socket_unit(m, &socks[i], &unit);
                if (r < 0)
                        return r;
                if (asprintf(&name, "rocket-socket-%zu.socket", i) < 0 || asprintf(&target, "../%s", name) < 0)
                        return -ENOMEM;
                r = write_file_volatile_at(dir, name, unit, strlen(unit), 0644);
                if (r < 0)
                        return r;
                (void) unlinkat(swants, name, 0);
                if (symlinkat(target, swants, name) < 0)
                        return -errno;
        }
        /* The shell entry's app when it names none: the first ("default"). */
        shell = open_mkdir_at(root_fd, STAGE1_APPS_DIR + 1, 0700);
        if (shell < 0)
                return shell;
        if (m->n_apps == 0)
                return 0;
        return write_file_volatile_at(shell, "default", m->apps[0].name, strlen(m->apps[0].name), 0600);
}
