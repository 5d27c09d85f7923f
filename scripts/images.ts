// Builds every service's runtime image from the repository's Dockerfile with buildah, no
// Docker engine needed:
//   npm run images                 every service
//   npm run images -- users orders only these
// Images are tagged <image.registry of the chart>/<service>:dev; one already current is kept.
import { buildServiceImages } from '@shop/devkit/images';

const started = Date.now();
const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const verbose = !process.argv.includes('--quiet');
const { base, images } = await buildServiceImages({
  ...(requested.length > 0 ? { services: requested } : {}),
  verbose,
});
console.log('');
for (const image of images) {
  const how = image.built ? `built in ${image.seconds.toFixed(0)} s` : 'already current';
  console.log(
    `${image.name.padEnd(24)} ${image.id.slice(0, 12)}  ${image.size.padStart(7)}  ${how}`,
  );
}
if (base.standIn) {
  console.log(
    `\nBuilt on a LOCAL STAND-IN base (label shop.stand-in=true): for checks on this machine only; never push these images.`,
  );
}
console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
