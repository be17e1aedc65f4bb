# The replica web server. Any Node image of a current LTS line works as the base: the
# build uses only `node` and `npm`, in exec form, so no shell or distro tools are needed.
ARG BASE_IMAGE=node:22-alpine

FROM ${BASE_IMAGE} AS build
WORKDIR /build
# The server's own package (src/server/image, made by `npm run image:package`): express and
# what compiles the server, at the project's locked versions; none of the CLI's or the
# tests' dependencies, which made most of a cold build's time. Install scripts are not
# needed by any of them.
COPY src/server/image/package.json src/server/image/package-lock.json ./
RUN ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--no-update-notifier"]
COPY tsconfig.json tsconfig.build.json ./
COPY src/server ./src/server
RUN ["node", "node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"]
# The image needs express alone: the compiler and the types go.
RUN ["npm", "prune", "--omit=dev", "--no-audit", "--no-fund", "--no-update-notifier"]

FROM ${BASE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /build/package.json ./package.json
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist/server/*.js ./dist/server/
# Numeric, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
EXPOSE 8080
CMD ["node", "dist/server/main.js"]
