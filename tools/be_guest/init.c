/*
 * /init of the big-endian ppc64 test guest (tools/build-be-guest.sh).
 * Built with powerpc64-linux-gnu-gcc -static; no shell, no busybox.
 *
 * It speaks the console protocol of the little-endian guest
 * (tools/build-test-guest.sh), on hvc0 via /dev/console:
 *   POWERKVM-GUEST-BOOTED arch=<uname -m>
 *   POWERKVM-GUEST-UNAME <uname -m>          (ppc64 on a big-endian kernel)
 *   POWERKVM-GUEST-BYTEORDER big-endian|little-endian   (decided at run time)
 *   POWERKVM-NIC-UP <ifname> <mac>           (each eth* it brings up)
 *   POWERKVM-DISK-WRITE-OK <mark> | POWERKVM-DISK-WRITE-FAILED <why>
 *   POWERKVM-GUEST-READY
 *   POWERKVM-TICK <n>                        (every 5 s)
 *   "ping <word>" read from the console -> POWERKVM-PONG <word> <uptime>
 *   POWERKVM-GUEST-POWEROFF <why>            (then the machine powers off)
 *
 * Power-off on the host's request: QEMU's system_powerdown (libvirt's
 * shutdown) raises an EPOW RTAS event on pseries; linux 6.1's
 * arch/powerpc/platforms/pseries/ras.c handle_system_shutdown() answers
 * EPOW_SHUTDOWN_NORMAL with orderly_poweroff(true), which runs poweroff_cmd,
 * "/sbin/poweroff" by default (kernel/reboot.c), and forces a power-off
 * itself only when that cannot be started. /sbin/poweroff in the initramfs
 * is a symlink to this program: run under that name it signals init
 * (SIGPWR), and init syncs and calls reboot(RB_POWER_OFF). init also takes
 * SIGTERM and SIGUSR2 (busybox init's power-off signal) the same way.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define SECTOR 512
#define TICK_SECONDS 5

static int con = 1; /* console fd */
static volatile sig_atomic_t poweroff_signal;

static void say(const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* one write per line, so lines from the kernel do not split ours */
	while (n > 0) {
		ssize_t w = write(con, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		n -= w;
	}
}

/* Run as /sbin/poweroff (the kernel's poweroff_cmd): ask init to stop. */
static int poweroff_main(void)
{
	if (kill(1, SIGPWR) == 0)
		return 0;
	/* no init to ask (not expected): power off directly */
	sync();
	reboot(RB_POWER_OFF);
	return 1;
}

static void on_poweroff(int sig)
{
	poweroff_signal = sig;
}

static void do_poweroff(void)
{
	say("POWERKVM-GUEST-POWEROFF signal=%s", strsignal(poweroff_signal));
	sync();
	reboot(RB_POWER_OFF);
	say("POWERKVM-GUEST-POWEROFF-FAILED %s", strerror(errno));
}

/* Byte order from a known 32-bit word's first byte in memory. volatile
 * makes the compiler store and load it, rather than fold the answer. */
static const char *byte_order(void)
{
	volatile uint32_t word = 0x01020304;
	volatile unsigned char *first = (volatile unsigned char *)&word;

	if (*first == 0x01)
		return "big-endian";
	if (*first == 0x04)
		return "little-endian";
	return "unknown";
}

static void read_first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void uptime(char *buf, size_t len)
{
	read_first_line("/proc/uptime", buf, len);
	buf[strcspn(buf, " ")] = '\0';
}

/* Bring up each eth*: its IPv6 link-local address (from its MAC) answers
 * pings from the guest's network, with no DHCP or agent in the guest. */
static void nics_up(void)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;
	int s;

	if (!d)
		return;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	while ((e = readdir(d))) {
		struct ifreq ifr;
		char path[300], mac[64];

		if (strncmp(e->d_name, "eth", 3) != 0 || s < 0 ||
		    strlen(e->d_name) >= sizeof(ifr.ifr_name))
			continue;
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, e->d_name, strlen(e->d_name));
		if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			continue;
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
			say("POWERKVM-NIC-FAILED %s %s", e->d_name,
			    strerror(errno));
			continue;
		}
		snprintf(path, sizeof(path), "/sys/class/net/%s/address",
			 e->d_name);
		read_first_line(path, mac, sizeof(mac));
		say("POWERKVM-NIC-UP %s %s", e->d_name, mac);
	}
	if (s >= 0)
		close(s);
	closedir(d);
}

/* First text line of the disk's first sector, NULs dropped (as the LE
 * guest's `dd | tr -d '\000' | head -n 1`). */
static int read_mark(const char *disk, char *line, size_t len)
{
	char sec[SECTOR];
	size_t i, n = 0;
	int fd = open(disk, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, sec, SECTOR) != SECTOR) {
		close(fd);
		return -1;
	}
	close(fd);
	for (i = 0; i < SECTOR && n + 1 < len; i++) {
		if (sec[i] == '\0')
			continue;
		if (sec[i] == '\n')
			break;
		line[n++] = sec[i];
	}
	line[n] = '\0';
	return 0;
}

/* Write a boot-count mark to the first virtio disk and read it back from
 * the device. The count lives on the disk itself, so a reboot shows 2. */
static void disk_test(void)
{
	char disk[32] = "", line[SECTOR + 1], mark[80], sec[SECTOR];
	unsigned long prev = 0;
	int i, fd;

	/* Drivers are built in and probe before init; wait anyway. */
	for (i = 0; i < 20 && !disk[0]; i++) {
		char c;
		for (c = 'a'; c <= 'z'; c++) {
			struct stat st;
			snprintf(disk, sizeof(disk), "/dev/vd%c", c);
			if (stat(disk, &st) == 0 && S_ISBLK(st.st_mode))
				break;
			disk[0] = '\0';
		}
		if (!disk[0])
			sleep(1);
	}
	if (!disk[0]) {
		say("POWERKVM-DISK-WRITE-FAILED no virtio disk (/dev/vd*) after 20s");
		return;
	}
	if (read_mark(disk, line, sizeof(line)) == 0)
		sscanf(line, "POWERKVM-DISK-MARK count=%lu", &prev);
	snprintf(mark, sizeof(mark), "POWERKVM-DISK-MARK count=%lu", prev + 1);

	memset(sec, 0, sizeof(sec));
	snprintf(sec, sizeof(sec), "%s\n", mark);
	fd = open(disk, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, sec, SECTOR) != SECTOR || fsync(fd) < 0) {
		say("POWERKVM-DISK-WRITE-FAILED write to %s failed: %s", disk,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	/* Drop cached blocks so the read-back comes from the device. */
	sync();
	if (ioctl(fd, BLKFLSBUF, 0) < 0)
		say("warning: BLKFLSBUF on %s: %s", disk, strerror(errno));
	close(fd);
	if (read_mark(disk, line, sizeof(line)) == 0 && !strcmp(line, mark))
		say("POWERKVM-DISK-WRITE-OK %s", line);
	else
		say("POWERKVM-DISK-WRITE-FAILED read back '%s' from %s", line,
		    disk);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Console lines "ping <word>" are answered at once, woken by the console's
 * interrupt, so the answer comes even if the guest's timer stalls (a TCG
 * guest migrated by QEMU < 8.1); the answer carries its uptime. */
static void handle_line(char *line)
{
	char what[16], word[256], up[64];

	if (sscanf(line, "%15s %255s", what, word) == 2 &&
	    !strcmp(what, "ping")) {
		uptime(up, sizeof(up));
		say("POWERKVM-PONG %s %s", word, up);
	}
}

static void serve(void)
{
	char buf[1024];
	size_t have = 0;
	unsigned long tick = 0;
	double next = now();
	sigset_t block, unblocked;

	sigemptyset(&block);
	sigaddset(&block, SIGPWR);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &unblocked);

	for (;;) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		double t = now();
		struct timespec ts;
		long ms;
		int r;

		if (poweroff_signal)
			do_poweroff();
		if (t >= next) {
			say("POWERKVM-TICK %lu", ++tick);
			next += TICK_SECONDS;
			if (next < t)
				next = t + TICK_SECONDS;
			continue;
		}
		ms = (long)((next - t) * 1000) + 1;
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		/* the power-off signals are blocked except inside ppoll, so
		 * one cannot slip in between the check above and the wait */
		r = ppoll(&p, 1, &ts, &unblocked);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(0, buf + have, sizeof(buf) - 1 - have);
			char *nl;

			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				sleep(1); /* EOF or error: as the LE guest */
				continue;
			}
			have += n;
			buf[have] = '\0';
			while ((nl = memchr(buf, '\n', have))) {
				*nl = '\0';
				handle_line(buf);
				have -= nl + 1 - buf;
				memmove(buf, nl + 1, have);
			}
			if (have == sizeof(buf) - 1)
				have = 0; /* an overlong line: drop it */
		}
	}
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	struct sigaction sa;
	struct utsname u;
	int fd;

	(void)argc;
	name = name ? name + 1 : argv[0];
	if (!strcmp(name, "poweroff"))
		return poweroff_main();

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	/* hvc0 is the console on pseries; /dev/console follows console=. */
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	con = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_poweroff;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPWR, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGCHLD, SIG_IGN); /* nothing to reap, but never zombies */

	uname(&u);
	say("POWERKVM-GUEST-BOOTED arch=%s", u.machine);
	say("POWERKVM-GUEST-UNAME %s", u.machine);
	say("POWERKVM-GUEST-BYTEORDER %s", byte_order());
	nics_up();
	disk_test();
	say("POWERKVM-GUEST-READY");
	serve();
	return 0;
}
