# Dockerfile - the pds image. Three stages on Debian 12:
#   build       compiles pds and pdsadmin (deploy/docker/build.sh)
#   runtime     only the shared libraries they need; expects an external PostgreSQL
#               (PDS_DATABASE_URL), as deploy/compose.yaml runs it
#   standalone  (the default) runtime plus Debian's PostgreSQL 15 server binaries, so
#               `docker run` without PDS_DATABASE_URL runs a private cluster under /pds
# Both run as the unprivileged user "pds" (uid 10001) with state in the /pds volume.
# The build machine has no Docker engine: scripts/docker-build-test.sh runs these same
# steps (same package lists, same build script) outside Docker.
#   docker build -t pds .                    # standalone
#   docker build --target runtime -t pds .   # for an external PostgreSQL
ARG DEBIAN_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS build
COPY deploy/docker/apt-install.sh deploy/docker/packages-build.txt /tmp/docker/
RUN /tmp/docker/apt-install.sh /tmp/docker/packages-build.txt
WORKDIR /src
COPY CMakeLists.txt ./
COPY migrations/ migrations/
COPY lexicons/ lexicons/
COPY admin-ui/ admin-ui/
COPY server/ server/
COPY tests/ tests/
COPY bench/ bench/
COPY deploy/docker/build.sh deploy/docker/build.sh
RUN deploy/docker/build.sh /src /tmp/build /out

FROM ${DEBIAN_IMAGE} AS runtime
COPY deploy/docker/apt-install.sh deploy/docker/packages-runtime.txt /tmp/docker/
RUN /tmp/docker/apt-install.sh /tmp/docker/packages-runtime.txt \
 && useradd --system --uid 10001 --user-group --home-dir /pds --no-create-home \
            --shell /usr/sbin/nologin pds \
 && install -d -o pds -g pds -m 0750 /pds \
 && rm -rf /tmp/docker
COPY --from=build /out/usr/local/bin/ /usr/local/bin/
# every interface of the container's own network: a container is reached only through the
# ports it is run with (-p), so even a development image (hostname localhost) must not
# listen on its loopback alone
ENV PDS_PORT=3000 \
    PDS_LISTEN_ADDRESS=:: \
    PDS_DATA_DIRECTORY=/pds \
    PDS_BLOBSTORE_DISK_LOCATION=/pds/blocks
USER pds
WORKDIR /pds
VOLUME ["/pds"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PDS_PORT}/xrpc/_health" >/dev/null || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/pds"]
CMD ["serve"]
LABEL org.opencontainers.image.title="pds" \
      org.opencontainers.image.description="AT Protocol Personal Data Server, in C"

FROM runtime AS standalone
USER root
COPY deploy/docker/apt-install.sh deploy/docker/packages-standalone.txt /tmp/docker/
RUN /tmp/docker/apt-install.sh /tmp/docker/packages-standalone.txt && rm -rf /tmp/docker
USER pds
