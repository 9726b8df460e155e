// Every package's entry points are one TypeDoc project (one program: fast, and links across packages resolve).
// This plugin names each module by its import specifier (packages/core/src/testing.ts is `@meterkit/core/testing`),
// and replaces TypeDoc's notExported validation, which skips types of any package other than the root package.json's
// and so would never warn here: it warns about each type a documented API references from a meterkit package that no
// entry point exports, unless the type is listed in intentionallyNotExported.
import { Application, ContainerReflection, Converter, DeclarationReflection, ParameterReflection, SignatureReflection, TypeParameterReflection, makeRecursiveVisitor } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.children ?? []) {
      const match = /^([\w-]+)\/src(?:\/(.+))?$/.exec(module.name);
      if (match !== null) module.name = `@meterkit/${match[1]}${match[2] === undefined || match[2] === 'index' ? '' : `/${match[2]}`}`;
    }
  });
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    const intentional = new Set(app.options.getValue('intentionallyNotExported'));
    const warned = new Set();
    let owner = project;
    const queue = [];
    const visitor = makeRecursiveVisitor({
      reference(type) {
        const key = type.symbolId?.getStableKey();
        if (type.reflection || type.externalUrl || type.isIntentionallyBroken() || !type.package?.startsWith('@meterkit/')) return;
        if (intentional.has(type.qualifiedName)) return;
        if (key === undefined || warned.has(key) || project.symbolIdHasBeenRemoved(type.symbolId)) return;
        warned.add(key);
        app.logger.validationWarning(
          `${type.qualifiedName}, defined in ${type.symbolId.packageName}/${type.symbolId.packagePath}, is referenced by ${owner.getFriendlyFullName()} but not exported by any entry point`,
        );
      },
      reflection(type) {
        queue.push(type.declaration);
      },
    });
    const add = (items) => queue.push(...[items ?? []].flat());
    do {
      if (owner instanceof ContainerReflection) add(owner.children);
      if (owner instanceof DeclarationReflection) {
        owner.type?.visit(visitor);
        add(owner.typeParameters);
        add(owner.signatures);
        add(owner.indexSignatures);
        add(owner.getSignature);
        add(owner.setSignature);
        owner.implementedTypes?.forEach((type) => type.visit(visitor));
        owner.extendedTypes?.forEach((type) => type.visit(visitor));
      }
      if (owner instanceof SignatureReflection) {
        add(owner.parameters);
        add(owner.typeParameters);
        owner.type?.visit(visitor);
      }
      if (owner instanceof ParameterReflection) owner.type?.visit(visitor);
      if (owner instanceof TypeParameterReflection) {
        owner.type?.visit(visitor);
        owner.default?.visit(visitor);
      }
    } while ((owner = queue.shift()));
  });
}
