# syntax=docker/dockerfile:1
# tokengate's container image: built from the npm package the project publishes, run on a
# distroless Node.js image (no shell, no package manager) as the unprivileged user 65532.
# test/e2e/packed-artifact.test.ts repeats the pack and install steps outside Docker.
#
#   docker build -t tokengate:0.1.0 .
#   docker run --rm -v "$PWD/tokengate.yaml:/etc/tokengate/tokengate.yaml:ro" tokengate:0.1.0

# A Node.js LTS line; the build and the runtime images use the same one.
ARG NODE_MAJOR=24

# 1. Build and pack: all dependencies, the TypeScript build (npm's prepack), the tarball.
FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN mkdir /pack && npm pack --pack-destination /pack

# 2. Install the tarball with production dependencies only into an empty folder.
FROM node:${NODE_MAJOR}-bookworm-slim AS install
WORKDIR /app
COPY --from=build /pack/ /pack/
RUN npm install --omit=dev --no-audit --no-fund --no-package-lock /pack/tokengate-*.tgz \
  && rm -rf /pack /root/.npm

# 3. Run: the installed package and Node.js, nothing else.
FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot
WORKDIR /app
COPY --from=install /app/node_modules /app/node_modules
ENV NODE_ENV=production
USER 65532:65532
EXPOSE 9001 9090
ENTRYPOINT ["/nodejs/bin/node", "/app/node_modules/tokengate/dist/src/cli/main.js"]
CMD ["serve", "--config", "/etc/tokengate/tokengate.yaml"]
