# Build a release binary in the official Swift image, run it in slim Debian (spec 07: Docker).
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev libssl-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY schema ./schema
RUN swift build -c release --static-swift-stdlib --product triggerbase \
    && cp "$(swift build -c release --show-bin-path)/triggerbase" /usr/local/bin/triggerbase

FROM debian:bookworm-slim
# libcurl4 backs FoundationNetworking (the workflow request node); libssl3 provides libcrypto;
# libpq5 is the PostgreSQL client (`--database postgres://…`).
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 libssl3 libpq5 libcurl4 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data triggerbase \
    && mkdir -p /data && chown triggerbase /data
COPY --from=build /usr/local/bin/triggerbase /usr/local/bin/triggerbase
USER triggerbase
VOLUME /data
EXPOSE 13000
ENTRYPOINT ["triggerbase"]
CMD ["serve", "--host", "0.0.0.0", "--data", "/data"]
