# The replica web server. Any Node image of a current LTS line works as the base: the
# build uses only `node` and `npm`, in exec form, so no shell or distro tools are needed.
ARG BASE_IMAGE=node:22-alpine

FROM ${BASE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
# Install scripts are not needed by anything the server builds from.
RUN ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
COPY tsconfig.json tsconfig.build.json ./
COPY src/server ./src/server
RUN ["node", "node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"]
# The server needs express alone; the CLI's dependencies would add about 100 MB. This writes
# a package.json and lockfile holding exactly express's locked part of package-lock.json.
RUN ["node", "dist/server/image/runtime-package.js", ".", "/runtime"]
WORKDIR /runtime
RUN ["npm", "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"]

FROM ${BASE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /runtime/package.json ./package.json
COPY --from=build /runtime/node_modules ./node_modules
COPY --from=build /build/dist/server/*.js ./dist/server/
# Numeric, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
EXPOSE 8080
CMD ["node", "dist/server/main.js"]
