# The app container under the Spin CLI: the official Spin image serving
# spin.toml with the handler components and the sidecar-link bridge they are
# composed with. Pairs with the sidecar container (Dockerfile.sidecar) in one
# Container Apps replica; the bridge reaches it on 127.0.0.1:7070.
#
#   docker build -f deploy/docker/Dockerfile.app -t chaoslab-app .
#   docker run -e SPIN_VARIABLE_LINK_TOKEN=… -p 3000:3000 chaoslab-app
#
# Required at run time: SPIN_VARIABLE_LINK_TOKEN (the sidecar's
# CHAOSLAB_LINK_TOKEN); optional: SPIN_VARIABLE_SIDECAR_URL.
ARG RUST_IMAGE=docker.io/library/rust:1.95-bookworm
# The Spin release the end-to-end tests run (tests/src/spin.rs, .ci/run).
ARG SPIN_IMAGE=ghcr.io/spinframework/spin:v4.0.2

FROM ${RUST_IMAGE} AS build
WORKDIR /src
RUN rustup target add wasm32-wasip2
COPY . .
# The components' one build (.cargo/config.toml): the same bytes the tests ran.
RUN cargo build-components
# The api served wrapped in the chaos layer, as spin.toml names it; the
# wrapper needs no Wasm runtime (wac-graph only).
RUN cargo run --locked --release --quiet -p chaoslab-compose --bin chaoslab-wrap -- \
      target/wasm32-wasip2/release/chaoslab_api.wasm -o target/wasm32-wasip2/release/chaoslab_api_wrapped.wasm

FROM ${SPIN_IMAGE}
WORKDIR /app
COPY spin.toml /app/spin.toml
# The paths spin.toml's `source` and `dependencies` name, relative to it.
COPY --from=build /src/target/wasm32-wasip2/release/chaoslab_api_wrapped.wasm \
                  /src/target/wasm32-wasip2/release/chaoslab_chaos.wasm \
                  /src/target/wasm32-wasip2/release/chaoslab_sidecar_link.wasm \
                  /app/target/wasm32-wasip2/release/
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/spin"]
CMD ["up", "--listen", "0.0.0.0:3000", "--from", "/app/spin.toml"]
