/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * shikumi_chrdev: user API of the simulated character device.
 *
 * Each /dev/shikumi-chrN is two things at once:
 *
 *  - a bounded byte FIFO, like a pipe: write(2) appends, read(2) consumes;
 *  - a simulated device with a register page.  A command submitted through
 *    SHIKUMI_CHR_IOC_SUBMIT completes after a chosen latency.  The driver
 *    learns of the completion either from a simulated interrupt or by
 *    polling the status register, which is exactly the trade-off of the
 *    book's chapter 6.
 *
 * The register page can be mapped read-only with mmap(2) at offset 0.
 * All times are CLOCK_MONOTONIC nanoseconds.
 */
#ifndef _UAPI_SHIKUMI_CHRDEV_H
#define _UAPI_SHIKUMI_CHRDEV_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define SHIKUMI_CHR_REGS_MAGIC		0x4d4b4853	/* "SHKM" */
#define SHIKUMI_CHR_REGS_VERSION	1

/* status register bits */
#define SHIKUMI_CHR_ST_BUSY		(1U << 0)	/* a command is in flight */
#define SHIKUMI_CHR_ST_DONE		(1U << 1)	/* last command completed */
#define SHIKUMI_CHR_ST_IRQ_PENDING	(1U << 2)	/* interrupt raised, not acked */

/* control register bits */
#define SHIKUMI_CHR_CTRL_IRQ_ENABLE	(1U << 0)	/* raise an IRQ on completion */

/*
 * The register page.  The device updates it; user space may only read it.
 * done_seq is written last (with release semantics) when a command
 * completes, so a reader that sees done_seq == N sees every other field of
 * command N.
 */
struct shikumi_chr_regs {
	__u32 magic;		/* SHIKUMI_CHR_REGS_MAGIC */
	__u32 version;		/* SHIKUMI_CHR_REGS_VERSION */
	__u32 status;		/* SHIKUMI_CHR_ST_* */
	__u32 ctrl;		/* SHIKUMI_CHR_CTRL_* of the current command */
	__u64 cmd_seq;		/* sequence number of the last command submitted */
	__u64 done_seq;		/* sequence number of the last command completed */
	__u64 latency_ns;	/* latency programmed for the current command */
	__u64 submit_ns;	/* when the current command was submitted */
	__u64 complete_ns;	/* when the last command completed */
	__u64 completions;	/* commands completed */
	__u64 irqs;		/* simulated interrupts raised */
	__u64 polls;		/* status register reads spun by the driver */
};

/* SHIKUMI_CHR_IOC_SUBMIT: how the caller waits for the completion */
#define SHIKUMI_CHR_WAIT_IRQ	0	/* sleep until the simulated interrupt */
#define SHIKUMI_CHR_WAIT_POLL	1	/* driver spins on the status register */
#define SHIKUMI_CHR_WAIT_NONE	2	/* return at once; watch the regs page */

#define SHIKUMI_CHR_LATENCY_MAX_NS	1000000000ULL	/* 1 s */

struct shikumi_chr_cmd {
	__u64 latency_ns;	/* in: 0 .. SHIKUMI_CHR_LATENCY_MAX_NS */
	__u32 wait;		/* in: SHIKUMI_CHR_WAIT_* */
	__u32 flags;		/* in: must be 0 */
	__u64 seq;		/* out: sequence number of this command */
	__u64 submit_ns;	/* out: when the device accepted it */
	__u64 complete_ns;	/* out: when it completed (0 for WAIT_NONE) */
	__u64 polls;		/* out: status reads spun (WAIT_POLL) */
	__u64 reserved[2];	/* must be 0 */
};

/*
 * Free in the kernel's Documentation/userspace-api/ioctl/ioctl-number.rst
 * (0xB8, which shikumi used at first, is the Marvell CN10K DPI
 * driver's and Hyper-V mshv's).
 */
#define SHIKUMI_CHR_IOC_MAGIC	0xBD

/* Submit one command; -EBUSY while an earlier one is still in flight. */
#define SHIKUMI_CHR_IOC_SUBMIT	_IOWR(SHIKUMI_CHR_IOC_MAGIC, 1, struct shikumi_chr_cmd)
/* Zero the counters in the register page; needs CAP_SYS_ADMIN. */
#define SHIKUMI_CHR_IOC_RESET	_IO(SHIKUMI_CHR_IOC_MAGIC, 2)

#define SHIKUMI_CHR_IOC_MAXNR	2

#endif /* _UAPI_SHIKUMI_CHRDEV_H */
