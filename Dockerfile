# The api and worker image (one image, two commands). Build: docker build -t omni-campaigns .
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --include=dev && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
# The supervisor console, built to console/dist (served at /console).
COPY console ./console
RUN npx tsx scripts/build-console.ts
USER node
EXPOSE 3000 9464
CMD ["npx", "tsx", "src/server.ts"]
