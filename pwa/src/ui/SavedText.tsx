import { useEffect, useRef, useState } from "preact/hooks";

/**
 * A text field saved as it is typed (0.5 s after the last key, and at once on blur), that keeps what the user
 * is typing when the stored value changes underneath (a sync pulled another device's edit): the stored value
 * is shown again only while the field is not being edited.
 */
export function SavedText(props: {
  id: string;
  value: string;
  onSave: (value: string) => void;
  multiline?: boolean;
  maxLength?: number;
  testid?: string;
}) {
  const [text, setText] = useState(props.value);
  const editing = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!editing.current) setText(props.value);
  }, [props.value]);
  const flush = (value: string) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    if (value !== props.value) props.onSave(value);
  };
  const onInput = (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement).value;
    editing.current = true;
    setText(value);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => flush(value), 500);
  };
  const onBlur = () => {
    flush(text);
    editing.current = false;
  };
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  const common = { id: props.id, value: text, onInput, onBlur, maxLength: props.maxLength, "data-testid": props.testid };
  return props.multiline ? <textarea {...common} /> : <input {...common} />;
}
