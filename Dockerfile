# schemagate: the migration runner and the operator in one image, with the
# bundled OCR identity migrations at /migrations.

FROM debian:12 AS build
# libpq is linked statically; its two companion archives come from
# postgresql-server-dev at libpq-dev's exact version (the script says why).
# One step with one `apt-get update`: libpq-dev and the archives are then
# always from the same package lists, even after a new libpq release.
COPY scripts/fetch-libpq-archives.sh /tmp/
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libpqxx-dev libpq-dev libcpprest-dev libssl-dev libyaml-cpp-dev \
      libboost-program-options-dev libspdlog-dev libfmt-dev \
      libpg-query-dev libprotobuf-c-dev \
    && bash /tmp/fetch-libpq-archives.sh \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY src ./src
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    && cmake --build /build -j"$(nproc)" --target schemagate schemagate-operator \
    && strip /build/schemagate /build/schemagate-operator
# /migrations holds versions/, the template, the declared schema (schema/,
# for `check --schema`) and a schemagate.yaml whose script_location is that
# directory itself.
COPY migrations /out/migrations
COPY schema /out/migrations/schema
COPY schemagate.yaml /tmp/schemagate.yaml
RUN sed 's|^script_location:.*|script_location: .|' /tmp/schemagate.yaml > /out/migrations/schemagate.yaml

FROM debian:12-slim AS runtime
# Only the shared libraries the binaries link (tests/packaging checks this
# list against ldd of both), and the Kerberos and LDAP libraries the static
# libpq loads when a connection needs them. libpq, libpqxx, yaml-cpp,
# Boost.Program_options, spdlog and fmt are linked in statically; cpprestsdk
# only into schemagate-operator, which `schemagate operator` runs.
# libpg_query (PostgreSQL's parser) is opened by `lint` and `check` when they
# parse, never by the runner's start.
RUN apt-get update && apt-get install -y --no-install-recommends \
      libssl3 libgssapi-krb5-2 libldap-2.5-0 libcpprest2.10 libpg-query1504.0 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/schemagate /build/schemagate-operator /usr/local/bin/
COPY --from=build /out/migrations /migrations
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="schemagate" \
      org.opencontainers.image.description="PostgreSQL migrations with the Alembic workflow, and a Kubernetes operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://example.invalid/schemagate"
# schemagate.yaml's script_location is relative to its own directory.
WORKDIR /migrations
USER 65532:65532
ENTRYPOINT ["schemagate"]
CMD ["--help"]
