/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define TESTS_MAIN
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "pod.h"
#include "pod-manifest.h"
#include "stage1.h"
#include "string-util.h"
#include "tests.h"

#define LAYER "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *good =
        "{\"version\":1,\"uuid\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"name\":\"web\",\"hostname\":\"web\","
        "\"created\":1,\"stage1\":\"/usr/lib/rocket/stage1-systemd\","
        "\"apps\":[{\"name\":\"app\",\"image\":\"sha256:x\",\"layersDir\":\"/var/lib/rocket/store/layers\","
        "\"layers\":[\"" LAYER "\"],\"exec\":[\"/bin/sh\",\"-c\",\"echo $HOME 100%\"],"
        "\"environment\":[\"A=1\"],\"user\":\"app\",\"capabilities\":[\"CAP_CHOWN\"],"
        "\"mounts\":[{\"volume\":\"data\",\"target\":\"/data\",\"readOnly\":true}]}],"
        "\"volumes\":[{\"name\":\"data\",\"kind\":\"empty\"}]}";

static int parse(const char *text, PodManifest **ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        int r = json_parse_strict(text, strlen(text), &o);

        return r < 0 ? r : pod_manifest_from_json(o, ret);
}

TEST(manifest_round_trip) {
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL, *m2 = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        char mid[33];

        ASSERT_OK(parse(good, &m));
        ASSERT_STREQ(m->name, "web");
        ASSERT_EQ(m->n_apps, 1u);
        ASSERT_STREQ(m->apps[0].exec[2], "echo $HOME 100%");
        ASSERT_TRUE(m->apps[0].mounts[0].read_only);
        ASSERT_EQ(m->volumes[0].kind, VOLUME_EMPTY);
        ASSERT_OK(pod_manifest_to_json(m, &o));
        ASSERT_OK(pod_manifest_from_json(o, &m2));
        ASSERT_STREQ(m2->apps[0].user, "app");
        ASSERT_FALSE(m2->apps[0].caps_all);
        ASSERT_STREQ(m2->apps[0].caps[0], "CAP_CHOWN");
        /* No pidsLimit: the default; it survives the round trip, and so does "no limit". */
        ASSERT_EQ(m->pids_max, (uint64_t) POD_PIDS_MAX_DEFAULT);
        ASSERT_EQ(m2->pids_max, (uint64_t) POD_PIDS_MAX_DEFAULT);
        m->pids_max = UINT64_MAX;
        json_object_put(o);
        o = NULL;
        m2 = pod_manifest_free(m2);
        ASSERT_OK(pod_manifest_to_json(m, &o));
        ASSERT_OK(pod_manifest_from_json(o, &m2));
        ASSERT_EQ(m2->pids_max, UINT64_MAX);
        ASSERT_OK(pod_machine_id(m->uuid, mid));
        ASSERT_STREQ(mid, "0f8fad5bd9cb469fa16570867728950e");
}

TEST(manifest_rejects_bad_input) {
        static const struct {
                const char *from, *to;
        } edits[] = {
                { "\"name\":\"web\"", "\"name\":\"Web_1\"" },                         /* bad pod name */
                { "\"layers\":[\"" LAYER "\"]", "\"layers\":[\"../../etc\"]" },      /* layer escape */
                { "\"target\":\"/data\"", "\"target\":\"/a/../../x\"" },             /* mount escape */
                { "\"volume\":\"data\"", "\"volume\":\"nope\"" },                    /* unknown volume */
                { "\"kind\":\"empty\"", "\"kind\":\"host\"" },                        /* host w/o source */
                { "\"version\":1", "\"version\":2" },
                { "\"uuid\":\"0f8fad5b", "\"uuid\":\"zz8fad5b" },
                { "\"exec\":[\"/bin/sh\",\"-c\",\"echo $HOME 100%\"]", "\"exec\":[]" },
                /* Fail closed: no capability set, or an ill-typed one, never means all of them. */
                { "\"capabilities\":[\"CAP_CHOWN\"],", "" },
                { "\"capabilities\":[\"CAP_CHOWN\"]", "\"capabilities\":\"some\"" },
                { "\"capabilities\":[\"CAP_CHOWN\"]", "\"capabilities\":7" },
                { "\"created\":1,", "\"created\":1,\"pidsLimit\":0," },
                { "\"created\":1,", "\"created\":1,\"pidsLimit\":\"lots\"," },
                /* Apps' I/O: stdin is never the journal, a terminal is stdin's and stdout's both. */
                { "\"user\":\"app\"", "\"user\":\"app\",\"stdin\":\"log\"" },
                { "\"user\":\"app\"", "\"user\":\"app\",\"stdin\":\"tty\"" },
                { "\"user\":\"app\"", "\"user\":\"app\",\"stderr\":\"tty\"" },
                { "\"user\":\"app\"", "\"user\":\"app\",\"stdout\":\"file\"" },
                { "\"user\":\"app\"", "\"user\":\"app\",\"interactive\":1" },
                /* No apps: only a sandbox. */
                { "\"apps\":[{", "\"apps\":[],\"x\":[{" },
                { "\"created\":1,", "\"created\":1,\"sandbox\":\"yes\"," },
                /* Annotations: an object of strings, names checked. */
                { "\"created\":1,", "\"created\":1,\"userLabels\":[\"a=b\"]," },
                { "\"created\":1,", "\"created\":1,\"userLabels\":{\"a\":1}," },
                { "\"created\":1,", "\"created\":1,\"annotations\":{\"bad name\":\"x\"}," },
                { "\"user\":\"app\"", "\"user\":\"app\",\"readOnlyRootfs\":\"yes\"" },
                { "\"user\":\"app\"", "\"user\":\"app\",\"oomScoreAdj\":1001" },
                { "\"created\":1,", "\"created\":1,\"ipc\":\"host\"," },
                { "\"user\":\"app\"", "\"user\":\"app\",\"supplementaryGids\":[-1]" },
                { "\"user\":\"app\"", "\"user\":\"app\",\"supplementaryGids\":\"4242\"" },
        };

        for (size_t i = 0; i < ELEMENTSOF(edits); i++) {
                _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
                _cleanup_free_ char *t = NULL;
                const char *at = strstr(good, edits[i].from);

                ASSERT_NOT_NULL(at);
                ASSERT_TRUE(asprintf(&t, "%.*s%s%s", (int) (at - good), good, edits[i].to,
                                     at + strlen(edits[i].from)) > 0);
                ASSERT_ERROR(parse(t, &m), EBADMSG);
        }
}

TEST(manifest_sandbox_and_io) {
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL, *m2 = NULL, *s = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *t = NULL;
        PodApp extra = {};
        const char *at = strstr(good, "\"user\":\"app\"");

        /* Defaults: stdin /dev/null, output to the journal, nothing to attach to. */
        ASSERT_OK(parse(good, &m));
        ASSERT_EQ((int) m->apps[0].io[0], (int) APP_IO_NULL);
        ASSERT_EQ((int) m->apps[0].io[1], (int) APP_IO_LOG);
        ASSERT_FALSE(pod_app_has_io(&m->apps[0]));
        ASSERT_FALSE(m->sandbox);
        m = pod_manifest_free(m);
        ASSERT_TRUE(asprintf(&t, "%.*s\"stdin\":\"tty\",\"stdout\":\"tty\",\"stderr\":\"stream\","
                             "\"interactive\":true,%s", (int) (at - good), good, at) > 0);
        ASSERT_OK(parse(t, &m));
        ASSERT_TRUE(pod_app_has_io(&m->apps[0]));
        ASSERT_TRUE(m->apps[0].interactive);
        ASSERT_OK(pod_manifest_to_json(m, &o));
        ASSERT_OK(pod_manifest_from_json(o, &m2));
        ASSERT_EQ((int) m2->apps[0].io[0], (int) APP_IO_TTY);
        ASSERT_EQ((int) m2->apps[0].io[2], (int) APP_IO_STREAM);
        ASSERT_TRUE(m2->apps[0].interactive);

        /* Annotations and labels survive the round trip. */
        m = pod_manifest_free(m);
        m2 = pod_manifest_free(m2);
        json_object_put(o);
        o = NULL;
        ASSERT_OK(parse(good, &m));
        ASSERT_OK(strv_set_kv(&m->user_labels, "tier=front"));
        ASSERT_OK(strv_set_kv(&m->user_labels, "tier=back"));
        ASSERT_OK(strv_set_kv(&m->annotations, "io.k8s/name=web"));
        m->ipc_parent = true;
        m->apps[0].readonly_rootfs = true;
        m->apps[0].supplementary_gids = calloc(2, sizeof(gid_t));
        ASSERT_NOT_NULL(m->apps[0].supplementary_gids);
        m->apps[0].supplementary_gids[0] = 4242;
        m->apps[0].supplementary_gids[1] = 7;
        m->apps[0].n_supplementary_gids = 2;
        m->apps[0].oom_score_adj = -1000;
        m->apps[0].oom_score_adj_set = true;
        ASSERT_OK(pod_manifest_to_json(m, &o));
        ASSERT_OK(pod_manifest_from_json(o, &m2));
        ASSERT_EQ(strv_length(m2->user_labels), 1u);
        ASSERT_STREQ(m2->user_labels[0], "tier=back");
        ASSERT_STREQ(m2->annotations[0], "io.k8s/name=web");
        ASSERT_TRUE(m2->ipc_parent);
        ASSERT_TRUE(m2->apps[0].readonly_rootfs);
        ASSERT_EQ(m2->apps[0].n_supplementary_gids, 2u);
        ASSERT_EQ((unsigned) m2->apps[0].supplementary_gids[1], 7u);
        ASSERT_TRUE(m2->apps[0].oom_score_adj_set);
        ASSERT_EQ(m2->apps[0].oom_score_adj, -1000);
        ASSERT_FALSE(pod_annotation_is_valid("=x"));
        ASSERT_FALSE(pod_annotation_is_valid("-a=x"));
        ASSERT_FALSE(pod_annotation_is_valid("a=x\ny"));
        ASSERT_TRUE(pod_annotation_is_valid("a="));

        /* A sandbox with no apps loads; apps are added and removed by name. */
        free(t);
        t = NULL;
        ASSERT_TRUE(asprintf(&t, "{\"version\":1,\"uuid\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"name\":\"sb\",\"hostname\":\"sb\","
                             "\"created\":1,\"sandbox\":true,\"stage1\":\"/usr/lib/rocket/stage1-systemd\",\"apps\":[]}") > 0);
        ASSERT_OK(parse(t, &s));
        ASSERT_TRUE(s->sandbox);
        ASSERT_EQ(s->n_apps, 0u);
        extra.name = strdup("web");
        ASSERT_NOT_NULL(extra.name);
        ASSERT_OK(pod_manifest_add_app(s, &extra));
        ASSERT_NULL(extra.name);
        ASSERT_EQ(s->n_apps, 1u);
        ASSERT_NOT_NULL(pod_manifest_find_app(s, "web"));
        ASSERT_ERROR(pod_manifest_remove_app(s, "nope"), ENOENT);
        ASSERT_OK(pod_manifest_remove_app(s, "web"));
        ASSERT_EQ(s->n_apps, 0u);
}

TEST(manifest_private_users) {
        static const char *const bad[] = { "1", "65536", "1879048193", "2147352576", "-1879048192" };
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL, *m2 = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *t = NULL;

        /* Absent: no user namespace; present: a range of our own, round-tripped. */
        ASSERT_OK(parse(good, &m));
        ASSERT_EQ(m->userns_base, 0u);
        ASSERT_TRUE(asprintf(&t, "%.*s,\"privateUsers\":1879113728}", (int) strlen(good) - 1, good) > 0);
        pod_manifest_free(m);
        m = NULL;
        ASSERT_OK(parse(t, &m));
        ASSERT_EQ(m->userns_base, 0x70010000u);
        ASSERT_OK(pod_manifest_to_json(m, &o));
        ASSERT_OK(pod_manifest_from_json(o, &m2));
        ASSERT_EQ(m2->userns_base, 0x70010000u);
        /* Not a range start, or outside ours (below nspawn's top, or in systemd's high ranges). */
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(pod_manifest_freep) PodManifest *b = NULL;
                _cleanup_free_ char *u = NULL;

                ASSERT_TRUE(asprintf(&u, "%.*s,\"privateUsers\":%s}", (int) strlen(good) - 1, good, bad[i]) > 0);
                ASSERT_ERROR(parse(u, &b), EBADMSG);
        }
}

TEST(manifest_summary) {
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL, *sm = NULL, *bad = NULL;
        char dir[] = "/tmp/test-pod-summary.XXXXXX";
        _cleanup_close_ int fd = -EBADF;

        ASSERT_OK(parse(good, &m));
        m->apps[0].image_name = strdup("web:1");
        m->userns_base = 0x70020000;
        ASSERT_NOT_NULL(mkdtemp(dir));
        fd = open(dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(pod_manifest_save_summary_at(fd, "summary", m));
        ASSERT_OK(pod_manifest_load_summary_at(fd, "summary", &sm));
        ASSERT_STREQ(sm->uuid, m->uuid);
        ASSERT_STREQ(sm->name, "web");
        ASSERT_EQ(sm->created_usec, m->created_usec);
        ASSERT_EQ(sm->userns_base, 0x70020000u);
        ASSERT_EQ(sm->n_apps, 1u);
        ASSERT_STREQ(sm->apps[0].name, "app");
        ASSERT_STREQ(sm->apps[0].image_id, "sha256:x");
        ASSERT_STREQ(sm->apps[0].image_name, "web:1");
        ASSERT_NULL(sm->apps[0].exec);          /* only what the summary holds */
        /* A summary is checked like a manifest. */
        {
                const char *t = "{\"version\":1,\"uuid\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"name\":\"../x\","
                                "\"created\":1,\"apps\":[]}";

                ASSERT_OK(write_file_atomic_at(fd, "summary", t, strlen(t), 0644));
        }
        ASSERT_ERROR(pod_manifest_load_summary_at(fd, "summary", &bad), EBADMSG);
        ASSERT_OK(rm_rf_at(AT_FDCWD, dir));
}

TEST(unit_quoting) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        ASSERT_OK(unit_quote("echo $HOME 100%", true, &a));
        ASSERT_STREQ(a, "\"echo $$HOME 100%%\"");
        ASSERT_OK(unit_quote("say \"hi\"\\n\n", true, &b));
        ASSERT_STREQ(b, "\"say \\\"hi\\\"\\\\n\\n\"");
        ASSERT_OK(unit_quote(";", true, &c));
        ASSERT_STREQ(c, "\\;");
        ASSERT_OK(unit_quote("K=$V", false, &d));
        ASSERT_STREQ(d, "\"K=$V\"");
        free(d);
        d = NULL;
        ASSERT_OK(unit_quote("a\rExecStartPre=/x\x7f", false, &d));
        ASSERT_STREQ(d, "\"a\\x0dExecStartPre=/x\\x7f\"");
}

/* A pod directory's state: its location and its lock. */
TEST(pod_states_and_exit) {
        _cleanup_free_ char *dir = strdup("/tmp/rocket-test-pod.XXXXXX");
        _cleanup_close_ int pods = -EBADF, lock = -EBADF;
        _cleanup_(pod_freep) Pod *p = NULL, *q = NULL;
        const char *uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
        char path[256];

        ASSERT_NOT_NULL(mkdtemp(dir));
        ASSERT_OK(pods_open(dir, true, &pods));
        snprintf(path, sizeof path, "run/%s", uuid);
        ASSERT_EQ(mkdirat(pods, path, 0700), 0);
        snprintf(path, sizeof path, "run/%s/pod", uuid);
        ASSERT_OK(write_file_atomic_at(pods, path, good, strlen(good), 0644));
        snprintf(path, sizeof path, "run/%s/apps/app", uuid);
        ASSERT_OK(mkdir_p_at(pods, path, 0755));

        /* Unlocked in run/: exited; an app killed by SIGTERM is a clean end, one killed by SIGKILL not. */
        snprintf(path, sizeof path, "run/%s/apps/app/exit", uuid);
        ASSERT_OK(write_file_atomic_at(pods, path, "killed TERM 5\n", 14, 0644));
        ASSERT_OK(pod_load(pods, POD_RUNNING, uuid, &p));
        ASSERT_EQ(p->state, POD_EXITED);
        ASSERT_EQ(pod_exit_status(p), 0);
        p = pod_free(p);
        ASSERT_OK(write_file_atomic_at(pods, path, "killed KILL 5\n", 14, 0644));
        ASSERT_OK(pod_load(pods, POD_RUNNING, uuid, &p));
        ASSERT_EQ(pod_exit_status(p), 137);
        p = pod_free(p);
        ASSERT_OK(write_file_atomic_at(pods, path, "exited 7 5\n", 11, 0644));

        /* Locked (shared, as the stage1 and the pod hold it): running. */
        snprintf(path, sizeof path, "run/%s", uuid);
        lock = openat(pods, path, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        ASSERT_TRUE(lock >= 0);
        ASSERT_EQ(flock(lock, LOCK_SH), 0);
        ASSERT_OK(pod_resolve(pods, "web", &p));
        ASSERT_EQ(p->state, POD_RUNNING);
        ASSERT_ERROR(pod_lock_exclusive(p->dir_fd), EBUSY);
        lock = safe_close(lock);

        ASSERT_OK(pod_resolve(pods, "0f8f", &q));
        ASSERT_EQ(q->state, POD_EXITED);
        ASSERT_EQ(pod_exit_status(q), 7);
        ASSERT_OK(pod_transition(pods, q, POD_EXITED_GARBAGE));
        ASSERT_STREQ(pod_state_to_string(q->state), "exited-garbage");
        ASSERT_EQ(pod_state_from_string("exited-garbage"), POD_EXITED_GARBAGE);
        ASSERT_EQ(pod_state_from_string("frob"), _POD_STATE_INVALID);
        ASSERT_NULL(pod_state_to_string(_POD_STATE_MAX));
        ASSERT_OK(pod_remove(pods, q));
        ASSERT_ERROR(pod_resolve(pods, "web", &p), ENOENT);
        ASSERT_OK(rm_rf_at(AT_FDCWD, dir));
}
