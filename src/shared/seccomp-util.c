/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>

#include "seccomp-util.h"

/* Groups nest (@system-service holds @basic-io and more); this deep is plenty. */
#define GROUP_DEPTH_MAX 8

const char *const *syscall_group_members(const char *name) {
        for (const SyscallGroup *g = syscall_groups; g->name; g++)
                if (strcmp(g->name, name) == 0)
                        return g->members;
        return NULL;
}

int errno_from_name(const char *name) {
        for (int i = 1; i < 4096; i++) {
                const char *n = strerrorname_np(i);

                if (n && strcmp(n, name) == 0)
                        return i;
        }
        return -EINVAL;
}

static scmp_filter_ctx filter_new(uint32_t default_action) {
        scmp_filter_ctx ctx = seccomp_init(default_action);

        if (!ctx)
                return NULL;
        /* no_new_privs is the app's own setting (app-exec.c), not a side effect of loading a filter. */
        if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
                seccomp_release(ctx);
                return NULL;
        }
        /* The 32-bit ABIs get the same filter: they reach the same kernel. */
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                (void) seccomp_arch_add(ctx, SCMP_ARCH_X86);
                (void) seccomp_arch_add(ctx, SCMP_ARCH_X32);
        }
        return ctx;
}

static int add_names(scmp_filter_ctx ctx, uint32_t action, const char *const *names, unsigned depth,
                     const char **reterr_name) {
        int r;

        if (depth > GROUP_DEPTH_MAX)
                return -ELOOP;
        for (const char *const *n = names; n && *n; n++) {
                int nr;

                if ((*n)[0] == '@') {
                        const char *const *members = syscall_group_members(*n);

                        if (!members) {
                                if (reterr_name)
                                        *reterr_name = *n;
                                return -ENOENT;
                        }
                        r = add_names(ctx, action, members, depth + 1, reterr_name);
                        if (r < 0)
                                return r;
                        continue;
                }
                nr = seccomp_syscall_resolve_name(*n);
                if (nr == __NR_SCMP_ERROR)
                        continue;       /* libseccomp knows no such call: not on any of our ABIs */
                r = seccomp_rule_add(ctx, action, nr, 0);
                /* -EDOM and friends: a call some of the filter's ABIs lack, added where it exists. */
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

int seccomp_load_app_filter(const char *mode, char *const *names, int err, const char **reterr_name) {
        bool retain = strcmp(mode, "retain") == 0;
        uint32_t deny = SCMP_ACT_ERRNO((uint32_t) err);
        scmp_filter_ctx ctx;
        int r;

        if (!retain && strcmp(mode, "remove") != 0)
                return -EINVAL;
        ctx = filter_new(retain ? deny : SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        r = add_names(ctx, retain ? SCMP_ACT_ALLOW : deny, (const char *const *) names, 0, reterr_name);
        /* An allowlist still lets the app be executed. */
        if (r >= 0 && retain)
                r = add_names(ctx, SCMP_ACT_ALLOW, (const char *const[]) { "execve", NULL }, 0, NULL);
        if (r >= 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}

/* Fails personality(v) for every v in [lo, hi] (32 bits: the kernel takes an unsigned int, so the upper
 * half of the register is not compared either), as aligned blocks that one masked compare each matches:
 * libseccomp compares an argument once per rule. */
static int deny_personality_range(scmp_filter_ctx ctx, uint32_t lo, uint32_t hi) {
        for (;;) {
                uint64_t size = 1;
                int r;

                while (size < (UINT64_C(1) << 32) && (lo & (size * 2 - 1)) == 0 && lo + size * 2 - 1 <= hi)
                        size *= 2;
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, UINT64_C(0xffffffff) & ~(size - 1), lo));
                if (r < 0)
                        return r;
                if ((uint64_t) lo + size - 1 >= hi)
                        return 0;
                lo += (uint32_t) size;
        }
}

int seccomp_load_restrictions(bool restrict_personality, bool no_user_namespaces) {
        scmp_filter_ctx ctx;
        int r = 0;

        if (!restrict_personality && !no_user_namespaces)
                return 0;
        ctx = filter_new(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        /* What is left: PER_LINUX, PER_LINUX32, either with UNAME26, and 0xffffffff (a query). */
        if (restrict_personality) {
                static const uint32_t gaps[][2] = {
                        { 0x1, 0x7 }, { 0x9, 0x1ffff }, { 0x20001, 0x20007 }, { 0x20009, 0xfffffffe },
                };

                for (size_t i = 0; i < sizeof gaps / sizeof gaps[0] && r >= 0; i++)
                        r = deny_personality_range(ctx, gaps[i][0], gaps[i][1]);
        }
        if (r >= 0 && no_user_namespaces) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
                /* clone's flags are its first argument on every ABI we filter. */
                if (r >= 0)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
                if (r >= 0)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setns), 1,
                                             SCMP_A1(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
                /* nstype 0 joins whatever the fd is, a user namespace too. */
                if (r >= 0)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setns), 1,
                                             SCMP_A1(SCMP_CMP_EQ, 0));
                /* Its flags sit in memory a filter cannot read. */
                if (r >= 0)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        }
        if (r >= 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}
