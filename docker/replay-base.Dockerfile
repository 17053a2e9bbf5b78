# replay-base:bookworm, the contract's base image: Debian 12 with python3 and python3-pip.
#
# Two ways to build it:
#  - Offline (what scripts/build-base-image.sh does, no registry needed): mmdebstrap builds the
#    root filesystem from Debian's packages, `docker import` loads it, and this file is built on
#    top with ROOTFS=<imported tag> and PREBUILT=1, so it only adds configuration: the RUN below
#    changes nothing and the root filesystem stays mmdebstrap's single, reproducible layer.
#  - On an engine that can pull: `docker build -t replay-base:bookworm - < docker/replay-base.Dockerfile`
#    installs the packages and creates the same layout from the debian:bookworm image.
ARG ROOTFS=debian:bookworm
FROM ${ROOTFS}
ARG PREBUILT=0
# /in and /code are root-owned so the step (65534) cannot change its inputs; /out and /work are
# owned by 65534 because fresh volumes copy up the owner and mode of the image's directory.
RUN [ "$PREBUILT" = 1 ] || ( \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-pip \
      && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /var/log/apt /var/log/dpkg.log \
      && install -d -o 0 -g 0 -m 0755 /in /code \
      && install -d -o 65534 -g 65534 -m 0755 /out /work )
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8
WORKDIR /work
USER 65534:65534
LABEL org.replay-runner.base=bookworm
CMD ["python3"]
