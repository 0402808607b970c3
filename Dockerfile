FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The SDK is a workspace of the same lockfile: npm ci needs its manifest.
COPY packages/sdk/package.json packages/sdk/
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/drizzle ./drizzle
COPY package.json ./
# Outside production a generated JWT secret is kept in .data/; the app runs as `node`.
RUN mkdir -p .data && chown node:node .data
USER node
EXPOSE 3000
# Exec form: node is PID 1 and receives SIGTERM itself; Gatehouse drains in-flight requests and exits 0.
CMD ["node", "--max-semi-space-size=8", "dist/main.js"]
