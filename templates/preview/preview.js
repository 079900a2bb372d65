// Live reload: on a change, fetch this page again and swap its body in place, keeping the scroll.
(() => {
  const refresh = async () => {
    const html = await (await fetch(location.href, { cache: 'no-store' })).text();
    const doc = new DOMParser().parseFromString(html, 'text/html');
    // Where the reader is now, not when the change was announced: they may have scrolled meanwhile.
    const y = window.scrollY;
    document.title = doc.title;
    document.body.replaceWith(doc.body);
    bind();
    window.scrollTo(0, y);
    document.documentElement.dataset.previewVersion = String(Number(document.documentElement.dataset.previewVersion || 0) + 1);
  };
  const source = new EventSource('/events');
  source.addEventListener('change', () => { refresh().catch(() => {}); });
  function bind() {
    const frame = document.getElementById('email');
    for (const b of document.querySelectorAll('[data-width]')) b.onclick = () => {
      frame.style.width = b.dataset.width + 'px';
      for (const o of document.querySelectorAll('[data-width]')) o.setAttribute('aria-pressed', String(o === b));
    };
    for (const b of document.querySelectorAll('[data-scheme]')) b.onclick = () => {
      const dark = b.getAttribute('aria-pressed') !== 'true';
      b.setAttribute('aria-pressed', String(dark));
      frame.style.colorScheme = dark ? 'dark' : 'light';
    };
    for (const b of document.querySelectorAll('[data-tab]')) b.onclick = () => {
      for (const o of document.querySelectorAll('[data-tab]')) o.setAttribute('aria-pressed', String(o === b));
      frame.hidden = b.dataset.tab !== 'html';
      document.getElementById('text').hidden = b.dataset.tab !== 'text';
      document.getElementById('source').hidden = b.dataset.tab !== 'source';
    };
    const form = document.getElementById('send-test');
    if (form) form.onsubmit = async (e) => {
      e.preventDefault();
      const res = await fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)) });
      document.getElementById('send-result').textContent = await res.text();
    };
  }
  bind();
})();
