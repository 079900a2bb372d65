// A guide's table of contents: open beside the text on a wide screen, folded above it on a narrow
// one, and marking the section being read (aria-current). Without this script it is a plain list.
(() => {
  'use strict';
  const toc = document.querySelector('.toc');
  if (!toc) return;

  const details = toc.querySelector('details');
  const wide = window.matchMedia('(min-width: 1100px)');
  const fit = () => {
    if (details) details.open = wide.matches;
  };
  fit();
  wide.addEventListener('change', fit);
  // Beside the text the list is always shown: a stray Enter on its heading does not fold it away.
  details?.addEventListener('toggle', () => {
    if (wide.matches && !details.open) details.open = true;
  });

  const links = new Map();
  for (const link of toc.querySelectorAll('a[href^="#"]')) {
    const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (target) links.set(target, link);
  }
  const headings = [...links.keys()];
  if (headings.length === 0 || !('IntersectionObserver' in window)) return;

  // The section being read is the last one whose heading has passed a line 30% down the window.
  let current;
  const mark = () => {
    const line = window.innerHeight * 0.3;
    let reading = headings[0];
    for (const heading of headings) {
      if (heading.getBoundingClientRect().top <= line) reading = heading;
      else break;
    }
    if (reading === current) return;
    if (current) links.get(current).removeAttribute('aria-current');
    links.get(reading).setAttribute('aria-current', 'true');
    current = reading;
  };
  // The observed area runs from far above the page down to that line, so a heading crossing it is
  // noticed however far one scroll jumps.
  const observer = new IntersectionObserver(mark, { rootMargin: '100000px 0px -70% 0px' });
  for (const heading of headings) observer.observe(heading);
  mark();
})();
