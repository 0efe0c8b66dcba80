import type { ReactNode } from "react";

export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

export function ErrorState({ error, retry }: { error: string; retry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <p>Could not load: {error}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

// Loading, error and empty states in one place, so every panel behaves the same.
export function Panel<T>({
  title,
  polled,
  isEmpty,
  empty,
  children,
}: {
  title: string;
  polled: { data: T | undefined; error: string | undefined; loading: boolean; reload: () => void };
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  const { data, error, loading, reload } = polled;
  let body: ReactNode;
  if (data === undefined && loading) body = <Loading what={title.toLowerCase()} />;
  else if (data === undefined && error) body = <ErrorState error={error} retry={reload} />;
  else if (data !== undefined && isEmpty?.(data)) body = <Empty>{empty ?? "Nothing here yet."}</Empty>;
  else if (data !== undefined) body = children(data);
  return (
    <section className="panel" aria-label={title}>
      <h2>{title}</h2>
      {error && data !== undefined && <ErrorState error={error} retry={reload} />}
      {body}
    </section>
  );
}
