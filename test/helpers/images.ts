// Real images for tests, made by sharp.
import sharp from 'sharp';

/** A PNG of one colour and the given size. */
export async function png(width: number, height: number, colour = '#3366cc'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer();
}
