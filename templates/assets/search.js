// Site search on the search page (search/): results from the Pagefind index in pagefind/ as the
// reader types. The index is in shards, listed in pagefind/shards.json, each a Pagefind index of its
// own. A shard without a word of the query would answer with its nearest words (Pagefind matches a
// word it lacks by the longest of its words that begins it: "fireworks" finds "gas-fired"), so the
// words index (one record per shard, of that shard's words) is searched first: it names the shards
// where the query's words match as they would in one index of the whole site, and only those are
// searched, their results ranked together by score. Every page's header form leads here, with or
// without this script. Text from the index is only ever set as text; the excerpt's <mark>
// highlights are rebuilt element by element.
(function () {
  'use strict';
  var results = document.getElementById('search-results');
  var status = document.getElementById('search-status');
  var input = document.getElementById('search-page-q');
  if (!results || !status || !input) return;
  var script = document.currentScript;
  var root = new URL('../', script ? script.src : location.href);
  var MAX = 20;
  /** The most characters of the query the status line repeats. */
  var SAID = 80;

  function say(text) {
    status.textContent = text;
  }

  if (location.protocol === 'file:') {
    say('Search needs the site to be served over HTTP (for example by "almanac serve"); opened from disk, it cannot load its index.');
    return;
  }

  var query = new URLSearchParams(location.search).get('q') || '';
  input.value = query;
  var loading = null;
  var latest = 0;

  function pagefind() {
    if (!loading) {
      var base = new URL('pagefind/', root);
      var shards = fetch(new URL('shards.json', base).href).then(function (response) {
        if (!response.ok) throw new Error('shards.json: ' + response.status);
        return response.json();
      });
      loading = shards.then(function (list) {
        // A site with nothing to search lists no shard: there is no index to load.
        if (list.shards.length === 0) return { list: list, index: null };
        return import(new URL(list.words + 'pagefind.js', base).href).then(function (pf) {
          var instances = {};
          // Each index is loaded when a search first needs it.
          function index(dir) {
            if (!instances[dir]) {
              var instance = pf.createInstance({ basePath: new URL(dir, base).pathname });
              instances[dir] = instance.options({ excerptLength: 24 }).then(function () {
                return instance;
              });
            }
            return instances[dir];
          }
          // First, so that Pagefind's worker (one for all of them) starts from its script there.
          index(list.words);
          return { list: list, index: index };
        });
      });
    }
    return loading;
  }

  /** The shards to search for `term`: those the words index names, in the manifest's order. */
  function shardsFor(pf, term) {
    if (pf.list.shards.length === 0) return Promise.resolve([]);
    // A phrase's words are far apart in the words index (each shard's words are there once): there
    // they are looked up as words, which names every shard that holds the phrase. Searching the words
    // index first, even then, also loads Pagefind's WebAssembly once before the shards load theirs in
    // the same worker: several at once from cold fail now and then ("memory access out of bounds").
    return pf.index(pf.list.words).then(function (words) {
      // A search counts the records by filter only once the filters are loaded (the first time only).
      return words.filters().then(function () {
        return words.search(term.replace(/"/g, ' '));
      });
    }).then(function (found) {
      // The count of matching records of each shard's filter: no record (a shard's words) is loaded.
      var counts = (found.filters && found.filters.shard) || {};
      return pf.list.shards.filter(function (dir) {
        return counts[dir.replace(/\/$/, '')] > 0;
      });
    });
  }

  /** Every result of the shards that match `term`, best score first (as Pagefind ranks merged indexes). */
  function searchAll(pf, term) {
    return shardsFor(pf, term).then(function (dirs) {
      return Promise.all(dirs.map(function (dir) {
        return pf.index(dir).then(function (shard) {
          return shard.search(term);
        });
      }));
    }).then(function (searches) {
      var all = [];
      searches.forEach(function (found) {
        all.push.apply(all, found.results);
      });
      all.sort(function (a, b) {
        return b.score - a.score;
      });
      return { results: all };
    });
  }

  /** The excerpt as nodes: text stays text, and only Pagefind's <mark> becomes an element. */
  function excerptNodes(html) {
    var doc = new DOMParser().parseFromString('<p>' + html + '</p>', 'text/html');
    var out = document.createDocumentFragment();
    doc.body.firstChild.childNodes.forEach(function (node) {
      if (node.nodeName === 'MARK') {
        var mark = document.createElement('mark');
        mark.textContent = node.textContent;
        out.appendChild(mark);
      } else {
        out.appendChild(document.createTextNode(node.textContent || ''));
      }
    });
    return out;
  }

  /**
   * `text` cut to its first SAID characters as a reader sees them: an emoji of several code points,
   * a flag or a letter and its accent is cut whole, never into a stray half.
   */
  function shortened(text) {
    var chars = [];
    if (typeof Intl === 'object' && typeof Intl.Segmenter === 'function') {
      // Only as far as needed: the text may be a pasted page.
      var segments = new Intl.Segmenter().segment(text)[Symbol.iterator]();
      for (var step = segments.next(); !step.done && chars.length <= SAID; step = segments.next()) chars.push(step.value.segment);
    } else {
      chars = Array.from(text);
    }
    return chars.length > SAID ? chars.slice(0, SAID).join('') + '…' : text;
  }

  function resultItem(data) {
    var meta = data.meta || {};
    var li = document.createElement('li');
    li.className = 'search-result';
    var kicker = document.createElement('p');
    kicker.className = 'kicker';
    kicker.textContent = meta.kind === 'Guide' ? 'Guide · ' + (meta.level || '') : 'News · ' + (meta.source || '');
    var heading = document.createElement('h2');
    var link = document.createElement('a');
    link.href = new URL(data.url, root).href;
    link.textContent = meta.title || data.url;
    heading.appendChild(link);
    var excerpt = document.createElement('p');
    excerpt.className = 'excerpt';
    excerpt.appendChild(excerptNodes(data.excerpt || ''));
    li.appendChild(kicker);
    li.appendChild(heading);
    li.appendChild(excerpt);
    return li;
  }

  function run(q) {
    var mine = ++latest;
    var term = q.trim();
    if (!term) {
      results.replaceChildren();
      say('Type a word to search the guides and news.');
      return;
    }
    say('Searching…');
    // A search that never answers (its WebAssembly refused, say) ends as one that failed.
    var giveUp = new Promise(function (_resolve, reject) {
      setTimeout(reject, 15000);
    });
    Promise.race([pagefind().then(function (pf) {
      return searchAll(pf, term);
    }), giveUp])
      .then(function (found) {
        if (mine !== latest) return null;
        return Promise.all(found.results.slice(0, MAX).map(function (r) {
          return r.data();
        })).then(function (datas) {
          if (mine !== latest) return;
          results.replaceChildren.apply(results, datas.map(resultItem));
          var n = found.results.length;
          var shown = n > MAX ? ' (the first ' + MAX + ' shown)' : '';
          // The query is read out with the count: a pasted page of text is shortened, not read whole.
          var said = shortened(term);
          say(n === 0 ? 'No results for “' + said + '”.' : n + (n === 1 ? ' result' : ' results') + ' for “' + said + '”' + shown + '.');
        });
      })
      .catch(function () {
        if (mine !== latest) return;
        results.replaceChildren();
        say('Search is not available: its index could not be loaded.');
      });
  }

  var timer = 0;
  input.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var url = new URL(location.href);
      url.searchParams.set('q', input.value);
      history.replaceState(null, '', url);
      run(input.value);
    }, 150);
  });
  input.form.addEventListener('submit', function (event) {
    event.preventDefault();
    clearTimeout(timer);
    run(input.value);
  });

  // Arrow keys move between the box and the results' links.
  function links() {
    return Array.prototype.slice.call(results.querySelectorAll('a'));
  }
  function move(event) {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    var all = links();
    if (all.length === 0) return;
    var at = all.indexOf(document.activeElement);
    var next = event.key === 'ArrowDown' ? at + 1 : at - 1;
    event.preventDefault();
    if (next < 0) input.focus();
    else all[Math.min(next, all.length - 1)].focus();
  }
  input.addEventListener('keydown', move);
  results.addEventListener('keydown', move);

  run(query);
  if (query) input.focus();
})();
