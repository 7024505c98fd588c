/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pod networking without a network: the --net/--port/--dns/--hosts-entry parsers, the manifest's "net"
 * member, network configurations by name, and the CNI executor driving fake plugins (shell scripts that
 * record their environment and stdin) through ADD, DEL, failures, timeouts and prevResult chaining. */
#define TESTS_MAIN
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cni.h"
#include "fs-util.h"
#include "log.h"
#include "net-args.h"
#include "net-config.h"
#include "pod-network.h"
#include "run-args.h"
#include "string-util.h"
#include "tests.h"

TEST(port_specs) {
        static const char *const bad[] = {
                "", "80", "x:y", "8080:0", "8080:65536", "0:80", "8080:80/sctp", "http:80/tcp", "1.2.3.4::80",
                "300.1.1.1:8080:80", "[::1:8080:80", "a:b:c:d", "http:1.2.3.x:8080", "8080:80:90",
        };
        PodPort p = {};

        log_set_max_level(-1);
        ASSERT_OK(port_spec_parse("t", "8080:80", &p));
        ASSERT_NULL(p.name);
        ASSERT_EQ(p.host_port, 8080);
        ASSERT_EQ(p.pod_port, 80);
        ASSERT_STREQ(p.protocol, "tcp");
        ASSERT_NULL(p.host_ip);
        pod_port_done(&p);
        ASSERT_OK(port_spec_parse("t", "127.0.0.1:5353:53/udp", &p));
        ASSERT_STREQ(p.host_ip, "127.0.0.1");
        ASSERT_EQ(p.host_port, 5353);
        ASSERT_EQ(p.pod_port, 53);
        ASSERT_STREQ(p.protocol, "udp");
        pod_port_done(&p);
        ASSERT_OK(port_spec_parse("t", "[::1]:8443:443", &p));
        ASSERT_STREQ(p.host_ip, "::1");
        ASSERT_EQ(p.host_port, 8443);
        ASSERT_EQ(p.pod_port, 443);
        pod_port_done(&p);
        ASSERT_OK(port_spec_parse("t", "80-tcp:8080", &p));
        ASSERT_STREQ(p.name, "80-tcp");
        ASSERT_EQ(p.host_port, 8080);
        ASSERT_EQ(p.pod_port, 0);       /* until the image says */
        pod_port_done(&p);
        ASSERT_OK(port_spec_parse("t", "http:192.0.2.1:8080", &p));
        ASSERT_STREQ(p.name, "http");
        ASSERT_STREQ(p.host_ip, "192.0.2.1");
        pod_port_done(&p);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = port_spec_parse("t", bad[i], &p);

                if (r != -ERRNO_USAGE)
                        TEST_FAIL("port '%s' was taken (%i)", bad[i], r);
        }
}

TEST(net_options) {
        NetArgs n = {};

        log_set_max_level(-1);
        ASSERT_OK(net_args_option("t", &n, ARG_NET, NULL));
        ASSERT_OK(net_args_option("t", &n, ARG_NET, "br0:IP=10.0.0.5,other"));
        ASSERT_EQ(strv_length(n.nets), 3u);
        ASSERT_STREQ(n.nets[0], "default");
        ASSERT_STREQ(n.nets[1], "br0:IP=10.0.0.5");
        ASSERT_EQ(net_args_option("t", &n, ARG_NET, "other"), -ERRNO_USAGE);     /* twice */
        ASSERT_EQ(net_args_option("t", &n, ARG_NET, "host"), -ERRNO_USAGE);      /* host stands alone */
        ASSERT_EQ(net_args_option("t", &n, ARG_NET, "Bad/name"), -ERRNO_USAGE);
        ASSERT_EQ(net_args_option("t", &n, ARG_NET, "x:"), -ERRNO_USAGE);
        net_args_done(&n);
        ASSERT_EQ(net_args_option("t", &n, ARG_NET, "none:K=V"), -ERRNO_USAGE);
        net_args_done(&n);

        ASSERT_OK(net_args_option("t", &n, ARG_DNS, "192.0.2.53, 2001:db8::53"));
        ASSERT_EQ(strv_length(n.dns), 2u);
        ASSERT_EQ(net_args_option("t", &n, ARG_DNS, "host"), -ERRNO_USAGE);
        ASSERT_EQ(net_args_option("t", &n, ARG_DNS, "example.com"), -ERRNO_USAGE);
        net_args_done(&n);
        ASSERT_OK(net_args_option("t", &n, ARG_DNS, "none"));
        ASSERT_EQ(net_args_option("t", &n, ARG_DNS, "192.0.2.1"), -ERRNO_USAGE);
        ASSERT_OK(net_args_option("t", &n, ARG_DNS_SEARCH, "a.example,b.example"));
        ASSERT_EQ(net_args_option("t", &n, ARG_DNS_SEARCH, "bad#domain"), -ERRNO_USAGE);
        ASSERT_OK(net_args_option("t", &n, ARG_DNS_OPT, "ndots:2"));
        ASSERT_EQ(net_args_option("t", &n, ARG_DNS_OPT, "x;y"), -ERRNO_USAGE);
        ASSERT_OK(net_args_option("t", &n, ARG_DNS_DOMAIN, "example.test"));
        ASSERT_EQ(net_args_option("t", &n, ARG_DNS_DOMAIN, "-x"), -ERRNO_USAGE);
        ASSERT_OK(net_args_option("t", &n, ARG_HOSTS_ENTRY, "192.0.2.7=db.test"));
        ASSERT_EQ(net_args_option("t", &n, ARG_HOSTS_ENTRY, "host"), -ERRNO_USAGE);
        ASSERT_EQ(net_args_option("t", &n, ARG_HOSTS_ENTRY, "db.test=192.0.2.7"), -ERRNO_USAGE);
        ASSERT_EQ(net_args_option("t", &n, ARG_HOSTS_ENTRY, "192.0.2.7=bad name"), -ERRNO_USAGE);
        ASSERT_OK(net_args_option("t", &n, ARG_PORT, "8080:80"));
        ASSERT_EQ(n.n_ports, 1u);
        net_args_done(&n);
}

static json_object *parse(const char *s) {
        json_object *o = NULL;

        if (json_parse_strict(s, strlen(s), &o) < 0)
                return NULL;
        return o;
}

TEST(manifest_net) {
        static const char *const bad[] = {
                "{\"mode\":\"bridge\"}",
                "{\"mode\":\"host\",\"ports\":[{\"protocol\":\"tcp\",\"podPort\":80,\"hostPort\":8080}]}",
                "{\"mode\":\"private\",\"cniPath\":[\"/usr/lib/cni\"],\"networks\":[{\"name\":\"n\",\"ifname\":\"eth0/x\","
                        "\"config\":{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"ptp\"}]}}]}",
                "{\"mode\":\"private\",\"cniPath\":[\"/usr/lib/cni\"],\"networks\":[{\"name\":\"n\",\"ifname\":\"eth0\","
                        "\"config\":{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"../../bin/sh\"}]}}]}",
                "{\"mode\":\"private\",\"networks\":[{\"name\":\"n\",\"ifname\":\"eth0\","
                        "\"config\":{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"ptp\"}]}}]}",
                "{\"mode\":\"private\",\"cniPath\":[\"relative\"]}",
                "{\"mode\":\"private\",\"ports\":[{\"protocol\":\"sctp\",\"podPort\":80,\"hostPort\":8080}]}",
                "{\"mode\":\"private\",\"ports\":[{\"protocol\":\"tcp\",\"podPort\":0,\"hostPort\":8080}]}",
                "{\"mode\":\"private\",\"dns\":[\"host\",\"192.0.2.1\"]}",
                "{\"mode\":\"private\",\"dnsSearch\":[\"a b\"]}",
                "{\"mode\":\"private\",\"hostsEntries\":[\"192.0.2.1=a\\nb\"]}",
        };
        _cleanup_(json_object_putp) json_object *o = NULL, *again = NULL;
        _cleanup_(pod_net_done) PodNet n = {}, m = {};

        o = parse("{\"mode\":\"private\",\"cniPath\":[\"/usr/lib/cni\"],"
                  "\"networks\":[{\"name\":\"default\",\"ifname\":\"eth0\",\"args\":\"IP=172.16.28.9\","
                  "\"config\":{\"cniVersion\":\"1.0.0\",\"name\":\"default\",\"plugins\":[{\"type\":\"ptp\"},{\"type\":\"portmap\"}]}}],"
                  "\"ports\":[{\"name\":\"80-tcp\",\"protocol\":\"tcp\",\"podPort\":80,\"hostPort\":8080,\"hostIP\":\"127.0.0.1\"}],"
                  "\"dns\":[\"192.0.2.53\"],\"dnsSearch\":[\"example.test\"],\"dnsDomain\":\"example.test\","
                  "\"hostsEntries\":[\"192.0.2.7=db.test\"]}");
        ASSERT_NOT_NULL(o);
        ASSERT_OK(pod_net_from_json(o, &n));
        ASSERT_FALSE(n.host);
        ASSERT_EQ(n.n_networks, 1u);
        ASSERT_STREQ(n.networks[0].args, "IP=172.16.28.9");
        ASSERT_EQ(n.ports[0].host_port, 8080);
        ASSERT_STREQ(n.ports[0].host_ip, "127.0.0.1");
        ASSERT_OK(pod_net_to_json(&n, &again));
        ASSERT_OK(pod_net_from_json(again, &m));
        ASSERT_STREQ(m.networks[0].name, "default");
        ASSERT_STREQ(m.dns_domain, "example.test");
        ASSERT_STREQ(m.hosts_entries[0], "192.0.2.7=db.test");

        /* No "net": a pod of an older rocket, on the host's network. */
        pod_net_done(&m);
        ASSERT_OK(pod_net_from_json(NULL, &m));
        ASSERT_TRUE(m.host);

        log_set_max_level(-1);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(json_object_putp) json_object *b = parse(bad[i]);
                PodNet x = {};
                int r;

                ASSERT_NOT_NULL(b);
                r = pod_net_from_json(b, &x);
                if (r != -EBADMSG)
                        TEST_FAIL("'%s' was taken (%i)", bad[i], r);
        }
}

static char *tmpdir(void) {
        char *d = strdup("/tmp/test-net.XXXXXX");

        if (!d || !mkdtemp(d))
                abort();
        return d;
}

static void write_file(const char *dir, const char *name, const char *content, mode_t mode) {
        char p[512];
        int fd;

        snprintf(p, sizeof p, "%s/%s", dir, name);
        fd = open(p, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, mode);
        if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t) strlen(content))
                abort();
        close(fd);
}

TEST(configs_by_name) {
        _cleanup_free_ char *a = tmpdir(), *b = tmpdir();
        const char *dirs[] = { a, b, NULL };
        _cleanup_(json_object_putp) json_object *c = NULL;
        _cleanup_strv_free_ char **names = NULL;
        json_object *plugins;
        const char *type;

        write_file(a, "10-web.conf", "{\"cniVersion\":\"1.0.0\",\"name\":\"web\",\"type\":\"bridge\"}", 0644);
        write_file(b, "web.conflist", "{\"cniVersion\":\"1.0.0\",\"name\":\"web\",\"plugins\":[{\"type\":\"ptp\"}]}", 0644);
        write_file(b, "other.conflist", "{\"cniVersion\":\"1.0.0\",\"name\":\"other\",\"plugins\":[{\"type\":\"ptp\"}]}", 0644);
        write_file(b, "broken.conf", "{ nope", 0644);
        write_file(b, "notype.conflist", "{\"cniVersion\":\"1.0.0\",\"name\":\"notype\",\"plugins\":[{}]}", 0644);
        write_file(b, "README", "not a configuration", 0644);

        /* The first directory wins; a single plugin's file becomes a list of one. */
        ASSERT_OK(net_config_find(dirs, "web", &c));
        ASSERT_OK(json_get_array(c, "plugins", &plugins));
        ASSERT_EQ(json_object_array_length(plugins), 1u);
        ASSERT_OK(json_get_string(json_object_array_get_idx(plugins, 0), "type", &type));
        ASSERT_STREQ(type, "bridge");
        log_set_max_level(-1);
        ASSERT_ERROR(net_config_find(dirs, "broken", &c), EBADMSG);     /* named after it: its error */
        ASSERT_ERROR(net_config_find(dirs, "notype", &c), EBADMSG);
        ASSERT_ERROR(net_config_find(dirs, "missing", &c), ENOENT);
        ASSERT_OK(net_config_names(dirs, &names));
        ASSERT_EQ(strv_length(names), 2u);
        ASSERT_STREQ(names[0], "other");
        ASSERT_STREQ(names[1], "web");
        ASSERT_OK(rm_rf_at(AT_FDCWD, a));
        ASSERT_OK(rm_rf_at(AT_FDCWD, b));
}

/* A fake plugin: records CNI_COMMAND, CNI_IFNAME, CNI_ARGS and its stdin, then answers per its name. */
static const char plugin_ok[] =
        "#!/bin/sh\n"
        "in=$(cat)\n"
        "echo \"$CNI_COMMAND $CNI_CONTAINERID $CNI_NETNS $CNI_IFNAME [$CNI_ARGS] $in\" >>\"$(dirname \"$0\")/log\"\n"
        "[ \"$CNI_COMMAND\" = ADD ] || exit 0\n"
        "echo '{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"veth1\"},{\"name\":\"eth0\",\"sandbox\":\"/ns\"}],"
        "\"ips\":[{\"interface\":1,\"address\":\"10.1.2.3/24\"}],\"dns\":{\"nameservers\":[\"10.1.2.1\"]}}'\n";
static const char plugin_fail[] =
        "#!/bin/sh\n"
        "cat >/dev/null\n"
        "echo \"$CNI_COMMAND fail\" >>\"$(dirname \"$0\")/log\"\n"
        "[ \"$CNI_COMMAND\" = ADD ] || exit 0\n"
        "echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no addresses left\",\"details\":\"range full\"}'\n"
        "exit 1\n";
static const char plugin_hang[] = "#!/bin/sh\nexec sleep 30\n";
static const char plugin_garbage[] = "#!/bin/sh\ncat >/dev/null\necho 'not json'\n";

TEST(cni_exec) {
        _cleanup_free_ char *d = tmpdir(), *log = NULL, *err = NULL;
        _cleanup_(json_object_putp) json_object *list = NULL, *result = NULL, *ports = NULL;
        _cleanup_strv_free_ char **addresses = NULL, **host = NULL;
        _cleanup_free_ char *ifname = NULL;
        char *path[] = { (char *) "/nonexistent", d, NULL };
        CniRuntime rt = { .container_id = "c0ffee", .netns = "/run/netns/x", .ifname = "eth1", .args = "IP=10.1.2.9",
                          .path = path };
        char logpath[512];

        write_file(d, "ok", plugin_ok, 0755);
        write_file(d, "fail", plugin_fail, 0755);
        write_file(d, "hang", plugin_hang, 0755);
        write_file(d, "garbage", plugin_garbage, 0755);
        snprintf(logpath, sizeof logpath, "%s/log", d);

        /* ADD in order with prevResult; portmap is skipped without ports; DEL in reverse. */
        write_file(d, "portmap", plugin_ok, 0755);
        list = parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"ok\",\"a\":1},"
                     "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}},{\"type\":\"ok\",\"b\":2}]}");
        ASSERT_NOT_NULL(list);
        ASSERT_OK(cni_add(list, &rt, &result, &err));
        ASSERT_OK(read_full_file_at(AT_FDCWD, logpath, 65536, &log, NULL));
        ASSERT_TRUE(startswith(log, "ADD c0ffee /run/netns/x eth1 [IgnoreUnknown=1;IP=10.1.2.9] {"));
        {
                /* The first plugin has no prevResult, the second has the first's result; each has the name. */
                char *second = strchr(log, '\n');

                ASSERT_NOT_NULL(second);
                *second++ = 0;
                ASSERT_NULL(strstr(log, "prevResult"));
                ASSERT_NOT_NULL(strstr(log, "\"name\":\"n\""));
                ASSERT_NOT_NULL(strstr(second, "\"prevResult\":{"));
                ASSERT_NOT_NULL(strstr(second, "\"b\":2"));
                ASSERT_NULL(strstr(second, "portMappings\":["));
        }
        ASSERT_OK(cni_result_summary(result, &ifname, &addresses, &host));
        ASSERT_STREQ(ifname, "eth0");
        ASSERT_STREQ(addresses[0], "10.1.2.3/24");
        ASSERT_STREQ(host[0], "veth1");
        unlink(logpath);
        free(log);
        log = NULL;
        ASSERT_OK(cni_del(list, &rt, result, &err));
        ASSERT_OK(read_full_file_at(AT_FDCWD, logpath, 65536, &log, NULL));
        ASSERT_TRUE(startswith(log, "DEL "));
        ASSERT_NOT_NULL(strstr(log, "\"b\":2"));
        ASSERT_NOT_NULL(strstr(log, "prevResult"));
        ASSERT_TRUE(strstr(log, "\"b\":2") < strstr(log, "\"a\":1"));   /* the last plugin first */
        unlink(logpath);
        free(log);
        log = NULL;

        /* CHECK: in order, with the result; not for old versions or with disableCheck. */
        ASSERT_OK(cni_check(list, &rt, result, &err));
        ASSERT_OK(read_full_file_at(AT_FDCWD, logpath, 65536, &log, NULL));
        ASSERT_TRUE(startswith(log, "CHECK "));
        ASSERT_TRUE(strstr(log, "\"a\":1") < strstr(log, "\"b\":2"));
        ASSERT_NOT_NULL(strstr(log, "prevResult"));
        unlink(logpath);
        free(log);
        log = NULL;
        {
                _cleanup_(json_object_putp) json_object *old = parse(
                        "{\"cniVersion\":\"0.3.1\",\"name\":\"n\",\"plugins\":[{\"type\":\"ok\"}]}");
                _cleanup_(json_object_putp) json_object *off = parse(
                        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"disableCheck\":true,\"plugins\":[{\"type\":\"fail\"}]}");

                ASSERT_ERROR(cni_check(old, &rt, result, &err), EOPNOTSUPP);
                free(err);
                err = NULL;
                ASSERT_OK(cni_check(off, &rt, result, &err));
                ASSERT_TRUE(access(logpath, F_OK) < 0);
        }

        /* With ports, portmap runs and gets them as runtimeConfig. */
        ports = parse("[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\"}]");
        rt.port_mappings = ports;
        json_object_put(result);
        result = NULL;
        ASSERT_OK(cni_add(list, &rt, &result, &err));
        ASSERT_OK(read_full_file_at(AT_FDCWD, logpath, 65536, &log, NULL));
        ASSERT_NOT_NULL(strstr(log, "\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":8080"));
        rt.port_mappings = NULL;
        unlink(logpath);
        free(log);
        log = NULL;

        /* A plugin that fails: its own message, and what was added is DELeted again. */
        json_object_put(list);
        list = parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"ok\"},{\"type\":\"fail\"}]}");
        json_object_put(result);
        result = NULL;
        ASSERT_ERROR(cni_add(list, &rt, &result, &err), EIO);
        ASSERT_STREQ(err, "plugin fail: no addresses left: range full");
        ASSERT_OK(read_full_file_at(AT_FDCWD, logpath, 65536, &log, NULL));
        ASSERT_NOT_NULL(strstr(log, "ADD fail\nDEL fail\nDEL "));
        unlink(logpath);
        free(err);
        err = NULL;

        /* Not installed; not JSON; too slow. */
        json_object_put(list);
        list = parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"absent\"}]}");
        ASSERT_ERROR(cni_add(list, &rt, &result, &err), ENOENT);
        ASSERT_TRUE(startswith(err, "plugin absent: not found in /nonexistent:"));
        free(err);
        err = NULL;
        json_object_put(list);
        list = parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"garbage\"}]}");
        ASSERT_ERROR(cni_add(list, &rt, &result, &err), EBADMSG);
        ASSERT_STREQ(err, "plugin garbage printed a result that is not JSON");
        free(err);
        err = NULL;
        json_object_put(list);
        list = parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"hang\"}]}");
        rt.timeout_usec = 300 * 1000;
        ASSERT_ERROR(cni_add(list, &rt, &result, &err), ETIMEDOUT);
        ASSERT_TRUE(startswith(err, "plugin hang did not finish"));
        ASSERT_OK(rm_rf_at(AT_FDCWD, d));
}
