// What people say about a listing, and a form to write (or edit) your own: one review per
// account, 1–5 stars and some words. Writing needs a signed-in account.
import { useId, useState, type FormEvent } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { Review } from "../../generated/Review";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { formatExact, formatRelative } from "../../lib/format";
import { MOD_LABEL } from "../../lib/platform";
import { starGlyphs } from "./marketFormat";

type ReviewsSectionProps = {
  id: string;
  reviews: ReadonlyArray<Review>;
  /** The signed-in account, whose review the form edits. */
  account: string | null;
  onSaved: () => void;
  onOpenSettings: () => void;
};

export function ReviewsSection({ id, reviews, account, onSaved, onOpenSettings }: ReviewsSectionProps) {
  const mine = account === null ? undefined : reviews.find((r) => r.user === account);
  return (
    <section className="market-section" aria-labelledby="market-reviews-title" data-testid="market-reviews">
      <h3 id="market-reviews-title" className="panel-heading">
        Reviews ({reviews.length})
      </h3>
      {reviews.length === 0 ? (
        <p className="muted small">No reviews yet.</p>
      ) : (
        <ul className="review-list">
          {reviews.map((review) => (
            <li key={review.user} className="review card-surface" data-testid="market-review" data-user={review.user}>
              <div className="review-head">
                <strong>{review.user}</strong>
                <span className="stars-glyphs" aria-label={`${review.stars} out of 5 stars`}>
                  {starGlyphs(review.stars)}
                </span>
                <time className="muted small" dateTime={review.updated_at} title={formatExact(review.updated_at)}>
                  {formatRelative(review.updated_at)}
                </time>
              </div>
              {review.text && <p className="review-text">{review.text}</p>}
            </li>
          ))}
        </ul>
      )}
      {account === null ? (
        <p className="muted small" data-testid="review-signin-note">
          <button type="button" className="link-button" onClick={onOpenSettings}>
            Sign in to the marketplace
          </button>{" "}
          to write a review.
        </p>
      ) : (
        <ReviewForm id={id} mine={mine} onSaved={onSaved} />
      )}
    </section>
  );
}

function ReviewForm({ id, mine, onSaved }: { id: string; mine: Review | undefined; onSaved: () => void }) {
  const [stars, setStars] = useState(mine?.stars ?? 0);
  const [text, setText] = useState(mine?.text ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [saved, setSaved] = useState(false);
  const textId = useId();

  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (busy || stars < 1) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await invoke("market_review", { id, stars, text: text.trim() });
      setSaved(true);
      onSaved();
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="review-form card-surface" onSubmit={(e) => void submit(e)} data-testid="review-form">
      <p className="review-form-title">{mine ? "Edit your review" : "Write a review"}</p>
      <div className="review-stars" role="radiogroup" aria-label="Stars">
        {[1, 2, 3, 4, 5].map((n) => (
          <button
            key={n}
            type="button"
            role="radio"
            aria-checked={stars === n}
            aria-label={`${n} star${n === 1 ? "" : "s"}`}
            className={`review-star${n <= stars ? " is-on" : ""}`}
            data-testid={`review-star-${n}`}
            onClick={() => {
              setStars(n);
              setSaved(false);
            }}
          >
            {n <= stars ? "★" : "☆"}
          </button>
        ))}
      </div>
      <label htmlFor={textId} className="visually-hidden">
        Your review
      </label>
      <textarea
        id={textId}
        className="input textarea"
        data-testid="review-text"
        placeholder="What did it do for you? (optional)"
        value={text}
        onChange={(e) => {
          setText(e.currentTarget.value);
          setSaved(false);
        }}
        onKeyDown={(e) => {
          // Enter makes a new line in the text; Ctrl/Cmd+Enter sends it.
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void submit();
          }
        }}
      />
      <div className="review-form-foot">
        <span className="small" role="status" aria-live="polite">
          {saved ? (
            <span className="saved" data-testid="review-saved">
              ✓ Review saved
            </span>
          ) : (
            <span className="muted">{stars < 1 ? "Pick 1 to 5 stars." : `${MOD_LABEL}+Enter sends it.`}</span>
          )}
        </span>
        <button type="submit" className="button button-primary" data-testid="review-submit" disabled={busy || stars < 1}>
          {busy && <span className="spinner spinner-light" aria-hidden="true" />}
          {mine ? "Update review" : "Post review"}
        </button>
      </div>
      {error && <ErrorAlert error={error} testId="review-error" />}
    </form>
  );
}
