/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parsers of what users give rocket run: --volume, --mount, isolation options, pod options and .pod
 * files, each with forms it takes and forms it refuses (a usage error, -ERRNO_USAGE). */
#define TESTS_MAIN
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "isolation.h"
#include "log.h"
#include "pod-file.h"
#include "run-args.h"
#include "string-util.h"
#include "tests.h"

TEST(volumes) {
        static const char *const bad[] = {
                "", "Bad_Name,kind=empty", "v,kind=other", "v,kind=host", "v,kind=host,source=relative",
                "v,kind=empty,source=/x", "v,kind=empty,mode=999", "v,kind=empty,mode=x", "v,kind=empty,uid=-1",
                "v,kind=empty,uid=65536", "v,kind=host,source=/x,mode=0700", "v,kind=empty,frob=1",
                "v,kind=empty,readOnly=maybe",
        };
        PodVolume v = {};

        log_set_max_level(-1);
        ASSERT_OK(volume_spec_parse("t", "www,kind=host,source=/srv/www,readOnly=true", &v));
        ASSERT_STREQ(v.name, "www");
        ASSERT_EQ(v.kind, VOLUME_HOST);
        ASSERT_STREQ(v.source, "/srv/www");
        ASSERT_TRUE(v.read_only);
        pod_volume_done(&v);
        ASSERT_OK(volume_spec_parse("t", "s,kind=empty,mode=0770,uid=1000,gid=50", &v));
        ASSERT_EQ(v.mode, (mode_t) 0770);
        ASSERT_EQ(v.uid, (uid_t) 1000);
        ASSERT_EQ(v.gid, (gid_t) 50);
        ASSERT_TRUE(pod_volume_is_valid(&v));
        pod_volume_done(&v);
        ASSERT_OK(volume_spec_parse("t", "d,kind=empty", &v));
        ASSERT_EQ(v.mode, (mode_t) POD_VOLUME_MODE_DEFAULT);
        pod_volume_done(&v);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_EQ(volume_spec_parse("t", bad[i], &v), -ERRNO_USAGE);
}

TEST(mounts) {
        static const char *const bad[] = {
                "volume=v", "target=/x", "volume=v,target=rel", "volume=v,target=/a/../b", "volume=Bad,target=/x",
                "volume=v,target=/x,readOnly=perhaps", "volume=v,target=/x,frob=1",
        };
        PodMount pm = {};

        log_set_max_level(-1);
        ASSERT_OK(mount_spec_parse("t", "volume=v,target=/data,readOnly=true", &pm));
        ASSERT_STREQ(pm.volume, "v");
        ASSERT_STREQ(pm.target, "/data");
        ASSERT_TRUE(pm.read_only);
        pod_mount_done(&pm);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_EQ(mount_spec_parse("t", bad[i], &pm), -ERRNO_USAGE);
}

TEST(isolation_options) {
        _cleanup_strv_free_ char **caps = NULL;
        uint64_t v;

        log_set_max_level(-1);
        ASSERT_OK(isolation_parse_caps("t", "net_bind_service,CAP_SYS_TIME", &caps));
        ASSERT_TRUE(strv_contains(caps, "CAP_NET_BIND_SERVICE"));
        ASSERT_TRUE(strv_contains(caps, "CAP_SYS_TIME"));
        strv_free(caps);
        caps = NULL;
        ASSERT_EQ(isolation_parse_caps("t", "CAP_FROBNICATE", &caps), -ERRNO_USAGE);
        ASSERT_OK(isolation_parse_seccomp("t", "mode=remove,errno=ENOSYS,@clock,reboot"));
        ASSERT_OK(isolation_parse_seccomp("t", "mode=retain,@app,@system-service"));
        ASSERT_EQ(isolation_parse_seccomp("t", "@clock"), -ERRNO_USAGE);                    /* no mode */
        ASSERT_EQ(isolation_parse_seccomp("t", "mode=remove,@frobnicate"), -ERRNO_USAGE);
        ASSERT_EQ(isolation_parse_seccomp("t", "mode=remove,frobnicate"), -ERRNO_USAGE);
        ASSERT_EQ(isolation_parse_seccomp("t", "mode=remove,errno=EFROB,reboot"), -ERRNO_USAGE);
        ASSERT_OK(isolation_parse_memory("t", "256M", &v));
        ASSERT_EQ(v, (uint64_t) 256 << 20);
        ASSERT_EQ(isolation_parse_memory("t", "lots", &v), -ERRNO_USAGE);
        ASSERT_OK(isolation_parse_cpu("t", "500m", &v));
        ASSERT_EQ(v, (uint64_t) 500);
        ASSERT_EQ(isolation_parse_cpu("t", "-1", &v), -ERRNO_USAGE);
}

TEST(pod_options) {
        PodArgs p = {};

        log_set_max_level(-1);
        ASSERT_OK(run_pod_option("t", &p, ARG_PIDS_LIMIT, "100"));
        ASSERT_EQ(p.pids_max, (uint64_t) 100);
        ASSERT_OK(run_pod_option("t", &p, ARG_PIDS_LIMIT, "max"));
        ASSERT_EQ(p.pids_max, UINT64_MAX);
        ASSERT_EQ(run_pod_option("t", &p, ARG_PIDS_LIMIT, "0"), -ERRNO_USAGE);
        ASSERT_EQ(run_pod_option("t", &p, ARG_PIDS_LIMIT, "-5"), -ERRNO_USAGE);
        ASSERT_OK(run_pod_option("t", &p, ARG_NAME, "Web-2.example"));
        ASSERT_EQ(run_pod_option("t", &p, ARG_NAME, "my_app"), -ERRNO_USAGE);
        ASSERT_OK(run_pod_option("t", &p, ARG_VOLUME, "a,kind=empty"));
        ASSERT_EQ(run_pod_option("t", &p, ARG_VOLUME, "a,kind=empty"), -ERRNO_USAGE);         /* twice */
        ASSERT_EQ(p.n_volumes, 1u);
        pod_args_done(&p);
}

static int load_pod_text(const char *text, PodArgs *p) {
        char path[64];
        int fd = memfd_create("pod", MFD_CLOEXEC), r;

        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
                return -errno;
        snprintf(path, sizeof path, "/proc/self/fd/%i", fd);
        r = pod_file_load(path, "fromfile", p);
        close(fd);
        return r;
}

TEST(app_options_after_image) {
        char *argv[] = { (char *) "run", (char *) "busybox:latest", (char *) "--readonly-rootfs",
                         (char *) "--exec", (char *) "/bin/true", (char *) "--stdout=stream", (char *) "---",
                         (char *) "busybox:latest", (char *) "--readonly-rootfs=no", (char *) "--name", (char *) "two",
                         NULL };
        PodArgs p = {};

        log_set_max_level(-1);
        /* An option whose argument is optional takes one only as --OPTION=VALUE: the next word is not it. */
        ASSERT_OK(run_parse_apps("run", 11, argv, 1, &p));
        ASSERT_EQ(p.n_apps, 2u);
        ASSERT_TRUE(p.apps[0].readonly_rootfs && p.apps[0].readonly_rootfs_given);
        ASSERT_STREQ(p.apps[0].exec, "/bin/true");
        ASSERT_EQ((int) p.apps[0].io[1], (int) APP_IO_STREAM);
        ASSERT_TRUE(!p.apps[1].readonly_rootfs && p.apps[1].readonly_rootfs_given);
        ASSERT_STREQ(p.apps[1].name, "two");
        pod_args_done(&p);
}

TEST(pod_files) {
        PodArgs p = {};

        log_set_max_level(-1);
        ASSERT_OK(load_pod_text("# comment\n; comment\n[Pod]\nPidsLimit=50\n\n[App a]\nImage=busybox:latest\n"
                                "Args=-c \"echo one ; echo two\" 'x # y'\n", &p));
        ASSERT_STREQ(p.name, "fromfile");
        ASSERT_EQ(p.pids_max, (uint64_t) 50);
        ASSERT_EQ(p.n_apps, 1u);
        ASSERT_STREQ(p.apps[0].args[1], "echo one ; echo two");       /* no inline comments */
        ASSERT_STREQ(p.apps[0].args[2], "x # y");
        pod_args_done(&p);
        p = (PodArgs) {};
        ASSERT_EQ(load_pod_text("[App a]\nImage=busybox:latest\nFrobnicate=1\n", &p), -ERRNO_USAGE);
        pod_args_done(&p);
        p = (PodArgs) {};
        /* No app: a sandbox, whose apps come later. */
        ASSERT_OK(load_pod_text("[Pod]\nHostname=x\nNoOverlay=yes\n", &p));
        ASSERT_EQ(p.n_apps, 0u);
        ASSERT_TRUE(p.no_overlay);
        pod_args_done(&p);
        /* The I/O keys mean what --stdin/--stdout/--stderr mean. */
        p = (PodArgs) {};
        ASSERT_OK(load_pod_text("[App a]\nImage=busybox:latest\nStdin=stream\nStdout=tty\n", &p));
        ASSERT_TRUE(p.apps[0].io_given[0] && p.apps[0].io_given[1] && !p.apps[0].io_given[2]);
        ASSERT_EQ((int) p.apps[0].io[0], (int) APP_IO_STREAM);
        ASSERT_EQ((int) p.apps[0].io[1], (int) APP_IO_TTY);
        pod_args_done(&p);
        /* Annotations and labels: a later NAME replaces an earlier one; names are checked. */
        p = (PodArgs) {};
        ASSERT_OK(load_pod_text("[Pod]\nAnnotation=io.k8s/pod=web\nUserLabel=tier=front\nUserLabel=tier=back\n"
                                "UserAnnotation=note=a=b c\n[App a]\nImage=busybox:latest\nReadOnlyRootfs=yes\n", &p));
        ASSERT_STREQ(p.annotations[0], "io.k8s/pod=web");
        ASSERT_EQ(strv_length(p.user_labels), 1u);
        ASSERT_STREQ(p.user_labels[0], "tier=back");
        ASSERT_STREQ(p.user_annotations[0], "note=a=b c");
        ASSERT_TRUE(p.apps[0].readonly_rootfs && p.apps[0].readonly_rootfs_given);
        pod_args_done(&p);
        p = (PodArgs) {};
        ASSERT_EQ(load_pod_text("[Pod]\nUserLabel=bad key=x\n[App a]\nImage=busybox:latest\n", &p), -ERRNO_USAGE);
        pod_args_done(&p);
        p = (PodArgs) {};
        ASSERT_EQ(load_pod_text("[Pod]\nAnnotation=novalue\n[App a]\nImage=busybox:latest\n", &p), -ERRNO_USAGE);
        pod_args_done(&p);
        p = (PodArgs) {};
        ASSERT_EQ(load_pod_text("[App a]\nImage=busybox:latest\nStdin=log\n", &p), -ERRNO_USAGE);
        pod_args_done(&p);
        p = (PodArgs) {};
        ASSERT_EQ(load_pod_text("[App a]\nImage=busybox:latest\nStderr=file\n", &p), -ERRNO_USAGE);
        pod_args_done(&p);
        p = (PodArgs) {};
        ASSERT_EQ(load_pod_text("[App a]\nExec=/bin/sh\n", &p), -ERRNO_USAGE);               /* no image */
        pod_args_done(&p);
        /* The network keys mean what the options mean. */
        p = (PodArgs) {};
        ASSERT_OK(load_pod_text("[Pod]\nNetwork=default,lan:IP=10.88.0.10\nPort=80-tcp:8080\nPort=5353:53/udp\n"
                                "DNS=192.0.2.53\nDNSSearch=example.test\nDNSOption=ndots:2\nDNSDomain=example.test\n"
                                "HostsEntry=192.0.2.7=db.test\n[App a]\nImage=busybox:latest\n", &p));
        ASSERT_EQ(strv_length(p.net.nets), 2u);
        ASSERT_STREQ(p.net.nets[1], "lan:IP=10.88.0.10");
        ASSERT_EQ(p.net.n_ports, 2u);
        ASSERT_STREQ(p.net.ports[0].name, "80-tcp");
        ASSERT_STREQ(p.net.ports[1].protocol, "udp");
        ASSERT_STREQ(p.net.dns[0], "192.0.2.53");
        ASSERT_STREQ(p.net.dns_search[0], "example.test");
        ASSERT_STREQ(p.net.dns_options[0], "ndots:2");
        ASSERT_STREQ(p.net.dns_domain, "example.test");
        ASSERT_STREQ(p.net.hosts_entries[0], "192.0.2.7=db.test");
        pod_args_done(&p);
        p = (PodArgs) {};
        ASSERT_EQ(load_pod_text("[Pod]\nNetwork=host,default\n[App a]\nImage=busybox:latest\n", &p), -ERRNO_USAGE);
        pod_args_done(&p);
}

TEST(stage1_name_normalize) {
        static const struct { const char *in, *out; } cases[] = {
                { "fly", "fly" },
                { "stage1-fly", "fly" },
                { "coreos.com/rkt/stage1-fly:1.30.0", "fly" },
                { "coreos.com/rkt/stage1-coreos:1.30.0", "systemd" },
                { "stage1-host", "systemd" },
                { "systemd", "systemd" },
                { "example.com/stage1-custom", "custom" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *n = NULL;

                ASSERT_OK(stage1_name_normalize(cases[i].in, &n));
                ASSERT_STREQ(n, cases[i].out);
        }
        for (const char *const *bad = (const char *const[]) { "", "a b", "x/", ":1", "Upper Case", NULL }; *bad; bad++) {
                _cleanup_free_ char *n = NULL;

                ASSERT_ERROR(stage1_name_normalize(*bad, &n), EINVAL);
        }
}
