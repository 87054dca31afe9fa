# Build: the release binary, linked against the system libpq.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/cchc-outreach

# Run: a small Debian with libpq, as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/cchc --create-home cchc
COPY --from=build /src/target/release/cchc-outreach /usr/local/bin/cchc-outreach
USER cchc
ENV CCHC_BIND=0.0.0.0:8080 CCHC_DATA_DIR=/var/lib/cchc
VOLUME /var/lib/cchc
EXPOSE 8080
ENTRYPOINT ["cchc-outreach"]
CMD ["serve"]
