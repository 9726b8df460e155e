// The application around the root README's examples.
declare const token: string;
declare const myTenantId: string;
declare function alert(message: unknown): void;
