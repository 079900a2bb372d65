// The Markdown of what the loader parses, rendered as it is parsed and kept with the documents, so
// that a value stored in the build cache is complete. Documents go to the renderer in batches while
// parsing goes on: a renderer that works elsewhere renders one batch while the next is parsed.
import type { GuideDoc, NewsItem, RenderedBody } from './model.ts';

/** What of a guide document is Markdown: its body and its inline fields. */
export interface GuideText {
  body: string;
  takeaways: readonly string[];
  timeline: readonly string[];
  faq: readonly string[];
}

export interface MarkdownWork {
  guides: readonly GuideText[];
  summaries: readonly string[];
}

/** The HTML of a MarkdownWork, in its order. */
export interface RenderedMarkdown {
  guides: RenderedBody[];
  summaries: string[];
}

/** Renders guide documents and news summaries (see render/markdown.ts), here or elsewhere. */
export interface MarkdownRenderer {
  render(work: MarkdownWork): Promise<RenderedMarkdown>;
}

export function guideText(doc: GuideDoc): GuideText {
  const { front, body } = doc;
  return { body, takeaways: front.takeaways, timeline: front.timeline.map((e) => e.event), faq: front.faq.map((f) => f.a) };
}

/** News summaries per batch (a guide document counts as ten). */
const BATCH = 500;
const GUIDE_WEIGHT = 10;

export class RenderQueue {
  private docs: GuideDoc[] = [];
  private items: NewsItem[] = [];
  private weight = 0;
  private readonly sent: Promise<void>[] = [];

  constructor(private readonly markdown: MarkdownRenderer) {}

  summary(item: NewsItem): void {
    this.items.push(item);
    this.add(1);
  }

  guide(doc: GuideDoc): void {
    this.docs.push(doc);
    this.add(GUIDE_WEIGHT);
  }

  /** Resolves once everything queued is rendered and put on its document. */
  async settled(): Promise<void> {
    this.flush();
    await Promise.all(this.sent);
  }

  private add(weight: number): void {
    this.weight += weight;
    if (this.weight >= BATCH) this.flush();
  }

  private flush(): void {
    const { docs, items } = this;
    if (docs.length + items.length === 0) return;
    const work = { guides: docs.map(guideText), summaries: items.map((n) => n.summary) };
    const done = this.markdown.render(work).then((back) => {
      back.guides.forEach((rendered, i) => (docs[i]!.rendered = rendered));
      back.summaries.forEach((html, i) => (items[i]!.summaryHtml = html));
    });
    // Its failure is reported by settled(); until then it is held, not thrown as unhandled.
    done.catch(() => undefined);
    this.sent.push(done);
    this.docs = [];
    this.items = [];
    this.weight = 0;
  }
}
