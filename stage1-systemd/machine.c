/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-login.h>

#include "fs-util.h"
#include "log.h"
#include "stage1.h"
#include "string-util.h"

struct MachineRegistration {
        sd_bus *bus;
        char *name;
};

static void bus_error_freep(sd_bus_error *e) {
        sd_bus_error_free(e);
}

static int machine_id128(const char *machine_id, sd_id128_t *ret) {
        return sd_id128_from_string(machine_id, ret);
}

/* The pod's own resource limits, as unit properties of its scope or service. */
static int append_limits(sd_bus_message *msg, const PodManifest *m) {
        int r = 0;

        if (m->memory_max)
                r = sd_bus_message_append(msg, "(sv)", "MemoryMax", "t", m->memory_max);
        if (r >= 0 && m->cpu_quota_milli)
                r = sd_bus_message_append(msg, "(sv)", "CPUQuotaPerSecUSec", "t", m->cpu_quota_milli * 1000);
        if (r >= 0 && m->cpu_weight)
                r = sd_bus_message_append(msg, "(sv)", "CPUWeight", "t", m->cpu_weight);
        /* Always: a fork bomb in one pod must not take the host's PIDs. */
        if (r >= 0)
                r = sd_bus_message_append(msg, "(sv)", "TasksMax", "t", m->pids_max);
        return r;
}

/* In keep-unit mode the limits go on the unit we run in, for as long as it runs. */
static int set_unit_limits(sd_bus *bus, const PodManifest *m) {
        _cleanup_(bus_error_freep) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        _cleanup_free_ char *unit = NULL;
        int r;

        r = sd_pid_get_unit(0, &unit);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &msg, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "SetUnitProperties");
        if (r >= 0)
                r = sd_bus_message_append(msg, "sb", unit, true);
        if (r >= 0)
                r = sd_bus_message_open_container(msg, 'a', "(sv)");
        if (r >= 0)
                r = append_limits(msg, m);
        if (r >= 0)
                r = sd_bus_message_close_container(msg);
        if (r >= 0)
                r = sd_bus_call(bus, msg, 0, &error, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to set the pod's resource limits on %s: %s", unit,
                                       error.message ?: strerror(-r));
        return 0;
}

/* RegisterMachineWithNetwork or CreateMachineWithNetwork, with what both take first. */
static int new_machine_call(sd_bus *bus, const char *method, const PodManifest *m, sd_id128_t id, pid_t leader,
                            const char *root_directory, const int *ifindices, size_t n_ifindices,
                            sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &msg, "org.freedesktop.machine1", "/org/freedesktop/machine1",
                                           "org.freedesktop.machine1.Manager", method);
        if (r >= 0)
                r = sd_bus_message_append(msg, "sayssus", m->name, SD_BUS_MESSAGE_APPEND_ID128(id), "rocket",
                                          "container", (uint32_t) leader, root_directory);
        if (r >= 0)
                r = sd_bus_message_append_array(msg, 'i', ifindices, n_ifindices * sizeof(int));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(msg);
        return 0;
}

int machine_register(const PodManifest *m, pid_t leader, const char *root_directory, bool keep_unit,
                     const int *ifindices, size_t n_ifindices, MachineRegistration **ret) {
        _cleanup_(bus_error_freep) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *description = NULL;
        MachineRegistration *reg;
        char mid[33];
        sd_id128_t id;
        int r;

        r = pod_machine_id(m->uuid, mid);
        if (r >= 0)
                r = machine_id128(mid, &id);
        if (r < 0)
                return r;
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus (is this a systemd host?): %m");

        if (keep_unit) {
                r = set_unit_limits(bus, m);
                if (r < 0)
                        return r;
                r = new_machine_call(bus, "RegisterMachineWithNetwork", m, id, leader, root_directory, ifindices,
                                     n_ifindices, &msg);
                if (r < 0)
                        return log_error_errno(r, "Failed to build the RegisterMachineWithNetwork call: %m");
                r = sd_bus_call(bus, msg, 0, &error, NULL);
        } else {
                if (asprintf(&description, "rocket pod %s", m->name) < 0)
                        return -ENOMEM;
                r = new_machine_call(bus, "CreateMachineWithNetwork", m, id, leader, root_directory, ifindices,
                                     n_ifindices, &msg);
                if (r >= 0)
                        r = sd_bus_message_open_container(msg, 'a', "(sv)");
                /* As nspawn: stopping the scope halts the pod's systemd gracefully (SIGRTMIN+3 to PID 1,
                 * SIGKILL to the rest only after the timeout); only the devices a container may use. */
                if (r >= 0)
                        r = sd_bus_message_append(msg, "(sv)(sv)(sv)(sv)(sv)",
                                                  "Description", "s", description,
                                                  "KillMode", "s", "mixed",
                                                  "KillSignal", "i", SIGRTMIN + 3,
                                                  "DevicePolicy", "s", "closed",
                                                  "DeviceAllow", "a(ss)", 2, "/dev/net/tun", "rwm", "char-pts", "rw");
                if (r >= 0)
                        r = append_limits(msg, m);
                if (r >= 0)
                        r = sd_bus_message_close_container(msg);
                if (r < 0)
                        return log_error_errno(r, "Failed to build the CreateMachineWithNetwork call: %m");
                r = sd_bus_call(bus, msg, 0, &error, NULL);
        }
        if (r < 0) {
                if (sd_bus_error_has_name(&error, "org.freedesktop.machine1.MachineExists"))
                        return log_error_errno(SYNTHETIC_ERRNO(EEXIST),
                                               "A machine named '%s' is already registered with systemd-machined.",
                                               m->name);
                return log_error_errno(r, "Failed to register the pod with systemd-machined: %s",
                                       error.message ?: strerror(-r));
        }

        reg = calloc(1, sizeof(*reg));
        if (!reg || !(reg->name = strdup(m->name))) {
                free(reg);
                return -ENOMEM;
        }
        reg->bus = TAKE_PTR(bus);
        *ret = reg;
        return 0;
}

void machine_unregister(MachineRegistration *reg) {
        _cleanup_(bus_error_freep) sd_bus_error error = SD_BUS_ERROR_NULL;

        if (!reg)
                return;
        /* Needed after RegisterMachine (the unit outlives the pod); harmless after CreateMachine. */
        if (sd_bus_call_method(reg->bus, "org.freedesktop.machine1", "/org/freedesktop/machine1",
                               "org.freedesktop.machine1.Manager", "UnregisterMachine", &error, NULL, "s",
                               reg->name) < 0)
                log_debug("UnregisterMachine(%s): %s", reg->name, error.message ?: "failed");
        sd_bus_flush_close_unref(reg->bus);
        free(reg->name);
        free(reg);
}

int machine_terminate_by_name(const char *name, const char *machine_id) {
        _cleanup_(bus_error_freep) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *owned = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *path;
        const void *id;
        size_t n;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return 0;
        r = sd_bus_call_method(bus, "org.freedesktop.machine1", "/org/freedesktop/machine1",
                               "org.freedesktop.machine1.Manager", "GetMachine", &error, &reply, "s", name);
        if (r < 0 || sd_bus_message_read(reply, "o", &path) < 0 || !(owned = strdup(path)))
                return 0;
        path = owned;
        /* Only ours: the same name may belong to a newer pod by now. */
        reply = sd_bus_message_unref(reply);
        r = sd_bus_get_property(bus, "org.freedesktop.machine1", path, "org.freedesktop.machine1.Machine", "Id",
                                &error, &reply, "ay");
        if (r < 0 || sd_bus_message_read_array(reply, 'y', &id, &n) < 0 || n != 16)
                return 0;
        {
                sd_id128_t want, got;

                memcpy(got.bytes, id, 16);
                if (sd_id128_from_string(machine_id, &want) < 0 || !sd_id128_equal(want, got))
                        return 0;
        }
        /* Whatever still runs in it goes too: a pod collected as exited has no business running (its
         * supervisor was killed and its own lock holder is gone, maybe by the pod's hand). */
        (void) sd_bus_call_method(bus, "org.freedesktop.machine1", "/org/freedesktop/machine1",
                                  "org.freedesktop.machine1.Manager", "TerminateMachine", &error, NULL, "s", name);
        return 1;
}
