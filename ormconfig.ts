// The typeorm CLI's DataSource. The app builds its own from the same function; after `npm run build` the CLI reads
// the compiled copy: `npm run typeorm -- migration:show`.
export { default } from './src/cli-data-source';
